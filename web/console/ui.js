// Small DOM helpers shared by the console's screens: building elements
// (text only: nothing from the server is ever parsed as HTML), messages
// next to their field (WCAG 3.3.1: aria-invalid, aria-describedby) and the
// translation of API errors.
import { t, setText } from '/web/common/i18n.js';

export const $ = (id) => document.getElementById(id);

// el('li', {class: 'x'}, child, 'text') ; attrs.i18n / attrs.vars make a
// translated text that follows the language switch.
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'i18n') setText(e, v, attrs.vars);
    else if (k === 'vars') continue;
    else if (v === true) e.setAttribute(k, '');
    else if (v !== false && v != null) e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c != null) e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

// Shows a translated message in el (visible, announced when live).  A
// hidden message is emptied: aria-describedby reads hidden elements too.
export function showMsg(e, key, vars) {
  setText(e, key, vars);
  e.hidden = false;
}

export function hideMsg(e) {
  delete e.dataset.i18n;
  delete e.dataset.i18nVars;
  e.textContent = '';
  e.hidden = true;
}

// The error of a field, shown next to it (its <p id="<field>-error">).
export function fieldError(input, key, vars) {
  const msg = $(`${input.id}-error`);
  if (key) {
    showMsg(msg, key, vars);
    input.setAttribute('aria-invalid', 'true');
  } else {
    hideMsg(msg);
    input.removeAttribute('aria-invalid');
  }
  return !key;
}

const CODES = ['invalid_request', 'unauthorized', 'forbidden', 'not_found', 'conflict',
  'invalid_state', 'too_large', 'too_many_requests', 'sealed', 'network'];

// An API refusal in a box: the translated meaning of its stable `error`
// code, then the server's own message (its detail: which field, which
// rule).
export function showApiError(box, r) {
  const code = CODES.includes(r.body?.error) ? r.body.error : 'other';
  box.replaceChildren(
    el('p', { i18n: `console.error.${code}`, vars: { status: r.status } }),
    (r.body?.detail ?? r.body?.message) ? el('p', { class: 'detail' }, r.body.detail ?? r.body.message) : null);
  box.hidden = false;
}

export function hideBox(box) {
  box.replaceChildren();
  box.hidden = true;
}

// A definition list from [key, value] pairs (values are data, not texts).
export function fillDl(dl, rows) {
  dl.replaceChildren();
  for (const [key, value] of rows) {
    dl.append(el('dt', { i18n: key }), el('dd', {}, value ?? '—'));
  }
}

export function announce(key, vars) {
  setText($('status'), key, vars);
}

export { t };

// Shows one screen, names it in the window's title and moves focus to its
// heading (WCAG 2.4.2, 2.4.3).
export function display(id) {
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== `view-${id}`;
  const h = $(`view-${id}`).querySelector('h1');
  document.title = `${h.textContent} – ${t('console.title')}`;
  h.focus();
}
