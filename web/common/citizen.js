// What the citizen's pages (the signing page /sign/{id}, the OAuth page
// /oauth/{id}) share: steps that take the focus (WCAG 2.4.3), errors next
// to their field (WCAG 3.3.1: aria-invalid, aria-describedby), the API
// call with its refusal as a catalogue key, and the start (catalogues,
// language, switch).  Each page has the sections step-login, step-review,
// step-confirm and step-closed, a #status, an #error box and an
// #otp-button that "Send a new code" replaces once the code is sent.
import { languageSwitch, loadCatalogues, pickLang, setLang, setText, t }
  from '/web/common/i18n.js';

export const $ = (sel) => document.getElementById(sel);

let titleKey = 'sign.title';

export function status(key, vars) { setText($('status'), key, vars); }

function hideMsg(e) {
  delete e.dataset.i18n;
  delete e.dataset.i18nVars;
  e.textContent = '';
  e.hidden = true;
}

export function showError(key, vars) {
  if (key) {
    setText($('error'), key, vars);
    $('error').hidden = false;
  } else {
    hideMsg($('error'));
  }
}

// The message of one field, next to it, and the field marked invalid.
export function fieldError(input, key, vars) {
  const msg = $(`${input.id}-error`);
  if (key) {
    setText(msg, key, vars);
    msg.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  } else {
    hideMsg(msg);
    input.removeAttribute('aria-invalid');
  }
  return !key;
}

export function clearErrors() {
  showError(null);
  for (const f of ['user-id', 'password', 'otp']) fieldError($(f), null);
}

const STEPS = ['step-login', 'step-review', 'step-confirm', 'step-closed'];

// Shows a step (the review stays above the confirmation), names it in the
// window's title and moves the focus to its heading.
export function show(step) {
  for (const s of STEPS)
    $(s).hidden = s !== step && !(step === 'step-confirm' && s === 'step-review');
  $('otp-button').hidden = step === 'step-confirm';
  const h = $(step).querySelector('h2');
  document.title = `${h.textContent} – ${t(titleKey)}`;
  h.focus();
}

// Something that can no longer be done: said once, no form left.
export function closed(key) {
  setText($('closed-text'), key);
  show('step-closed');
}

export function busy(button, on) { button.disabled = on; }

export class ApiError extends Error {
  constructor(status, body) {
    super(body.message || `HTTP ${status}`);
    this.status = status;
    this.code = body.error || '';
  }
}

// A JSON call to base + path with the bearer token token() gives, if any;
// a refusal throws ApiError (status 0: no connection).
export function apiCaller(base, token) {
  return async (method, path, body) => {
    const headers = { 'Content-Type': 'application/json' };
    if (token()) headers.Authorization = 'Bearer ' + token();
    let r;
    try {
      r = await fetch(base + path, {
        method, headers, body: body ? JSON.stringify(body) : undefined,
        credentials: 'omit', cache: 'no-store' });
    } catch (e) {
      throw new ApiError(0, { error: 'network' });
    }
    let data = {};
    try { data = await r.json(); } catch (e) { data = {}; }
    if (!r.ok) throw new ApiError(r.status, data);
    return data;
  };
}

// The catalogue key of a refusal: by its HTTP status and stable code, in
// the words of the step it happened in (login, otp, confirm, ...).
export function errorKey(e, step) {
  if (e.status === 0) return 'sign.error.network';
  if (e.status === 429) return 'sign.error.too_many';
  if (e.status === 404) return 'sign.error.not_found';
  if (e.status === 409 || e.code === 'invalid_state') return 'sign.error.closed';
  if (e.status === 503) return 'sign.error.sealed';
  if (e.status === 403 && step === 'login') return 'sign.error.not_owner';
  if (e.status === 401 && step === 'login') return 'sign.error.login';
  if (e.status === 401 && step === 'confirm') return 'sign.error.otp';
  if (e.status === 401) return 'sign.error.session';
  return 'sign.error.other';
}

// Login fields checked before any request: the message next to the field.
export function loginFilled() {
  return fieldError($('user-id'), $('user-id').value.trim() ? null
                                                          : 'sign.error.user_id.empty') &&
    fieldError($('password'), $('password').value ? null : 'sign.error.password.empty');
}

export function otpFilled() {
  return fieldError($('otp'), /^[0-9]{6,8}$/.test($('otp').value.trim()) ? null
                                                                       : 'sign.error.otp.format');
}

// The page's own HTTP status (404 unknown, 410 no longer open), for a page
// that says so before any password is asked for.
export function pageStatus() {
  const nav = performance.getEntriesByType('navigation')[0];
  return nav && nav.responseStatus ? nav.responseStatus : 200;
}

// Catalogues, the reader's language, the switch; title is the page's name.
export async function startPage(title) {
  titleKey = title;
  await loadCatalogues();
  setLang(pickLang(), false);
  languageSwitch($('langs'));
}
