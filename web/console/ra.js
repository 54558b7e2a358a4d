// The registration authority's screens: face-to-face registration and a
// citizen's record (RA officer: activation code; officer and RA
// administrator: unlock, lock), and the approvals queue where a second
// person decides a certificate request (R1.5).  Calls: docs/API.md
// "Registration authority" and "Officer unlock and lock".
import * as api from './api.js';
import { judge, normalize } from './docnum.js';
import { $, display, el, fieldError, fillDl, hideBox, hideMsg, showApiError,
  showMsg } from './ui.js';

const ID_RE = /^[0-9a-f]{32}$/;
let citizen = null; // the record shown
let requests = []; // the queue shown

export function clear() {
  citizen = null;
  requests = [];
  $('register-form').reset();
  for (const f of document.querySelectorAll('#register-form [aria-invalid]')) fieldError(f, null);
  hideBox($('register-error'));
  hideMsg($('reg-doc-number-ok'));
  $('citizen-card').hidden = true;
  $('citizen-id').value = '';
  $('register-done').hidden = true;
  $('requests-list').replaceChildren();
}

// ---- registration (ra_officer) -----------------------------------------------

// The number field judged as the officer types (WCAG 3.3.1): a verdict
// only once the number is complete or cannot become one; on leaving the
// field an unfinished number is an error too.
function checkNumber(final) {
  const type = $('reg-doc-type').value;
  const input = $('reg-doc-number');
  const kind = type === 'DNI' ? 'DNI' : 'NIE';
  const state = judge(type, input.value, final);
  const key = {
    empty: final ? 'console.required' : null,
    typing: null,
    format: `console.doc.format.${kind}`,
    incomplete: `console.doc.format.${kind}`,
    letter: 'console.doc.letter',
    ok: null,
  }[state];
  fieldError(input, key);
  if (state === 'ok') showMsg($('reg-doc-number-ok'), 'console.doc.ok');
  else hideMsg($('reg-doc-number-ok'));
  return key === null && state !== 'typing';
}

function docTypeChanged() {
  const type = $('reg-doc-type').value;
  const hint = $('reg-doc-number-hint');
  showMsg(hint, `console.register.doc_number.hint.${type === 'DNI' ? 'DNI' : 'NIE'}`);
  $('reg-companion').hidden = type !== 'EU_REGISTRATION';
  if ($('reg-doc-number').value) checkNumber(false);
}

const today = () => new Date().toISOString().slice(0, 10);

function required(input) {
  return fieldError(input, input.value.trim() ? null : 'console.required');
}

function countryOk(input, needed) {
  const v = input.value.trim().toUpperCase();
  if (!v) return fieldError(input, needed ? 'console.required' : null);
  return fieldError(input, /^[A-Z]{2}$/.test(v) ? null : 'console.register.country.bad');
}

// "20/05/2031" (or "20-5-2031", or ISO "2031-05-20") -> "2031-05-20";
// null when it is no calendar date.
export function parseDate(text) {
  const v = text.trim();
  let m = v.match(/^([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})$/);
  const [y, mo, d] = m ? [m[3], m[2], m[1]] : (v.match(/^([0-9]{4})-([0-9]{2})-([0-9]{2})$/) || []).slice(1);
  if (!y) return null;
  const iso = `${y}-${mo.padStart(2, '0')}-${d.padStart(2, '0')}`;
  const date = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(iso) ? iso : null;
}

// A document's expiry (future) or a birth date (past), optional or not.
function dateOk(input, needed, past) {
  const v = input.value.trim();
  if (!v) return fieldError(input, needed ? 'console.required' : null);
  const iso = parseDate(v);
  if (!iso) return fieldError(input, 'console.date.bad');
  if (past) return fieldError(input, iso > today() ? 'console.date.past' : null);
  return fieldError(input, iso < today() ? 'console.doc.expired' : null);
}

function dateValue(input) {
  return input.value.trim() ? parseDate(input.value) : null;
}

// Every field judged, each error next to its field; true when all pass.
function validRegistration() {
  const type = $('reg-doc-type').value;
  const eu = type === 'EU_REGISTRATION';
  const mobile = $('reg-mobile');
  const email = $('reg-email');
  const results = [
    checkNumber(true),
    dateOk($('reg-doc-expiry'), !eu),
    required($('reg-given')),
    required($('reg-surname')),
    dateOk($('reg-birth'), true, true),
    countryOk($('reg-country'), type === 'NIE' || type === 'TIE'),
    fieldError(mobile, !mobile.value.trim() ? 'console.required'
      : /^\+[0-9]{8,15}$/.test(mobile.value.replace(/\s/g, '')) ? null : 'console.register.mobile.bad'),
    fieldError(email, !email.value.trim() ? 'console.required'
      : /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email.value.trim()) ? null : 'console.register.email.bad'),
    required($('reg-evidence')),
  ];
  if (eu) {
    results.push(required($('reg-comp-number')), countryOk($('reg-comp-country'), true),
                 dateOk($('reg-comp-expiry'), true));
  }
  return results.every(Boolean);
}

function opt(input) {
  const v = input.value.trim();
  return v ? v : null;
}

function registrationBody() {
  const type = $('reg-doc-type').value;
  const doc = { type, number: normalize($('reg-doc-number').value),
                expiry: dateValue($('reg-doc-expiry')), support_number: opt($('reg-doc-support')) };
  if (type === 'EU_REGISTRATION') {
    doc.companion = { type: $('reg-comp-type').value, number: $('reg-comp-number').value.trim(),
                      country: $('reg-comp-country').value.trim().toUpperCase(),
                      expiry: dateValue($('reg-comp-expiry')) };
  }
  const country = opt($('reg-country'));
  return {
    level: $('reg-level').value,
    given_name: $('reg-given').value.trim(),
    surname: $('reg-surname').value.trim(),
    country: country ? country.toUpperCase() : (type === 'DNI' ? 'ES' : null),
    birth_date: dateValue($('reg-birth')),
    mobile: $('reg-mobile').value.replace(/\s/g, ''),
    email: $('reg-email').value.trim(),
    document: doc,
    evidence_ref: $('reg-evidence').value.trim(),
  };
}

async function submitRegistration(ev) {
  ev.preventDefault();
  const box = $('register-error');
  hideBox(box);
  if (!validRegistration()) {
    showMsg(box, 'console.form.invalid');
    document.querySelector('#register-form [aria-invalid="true"]').focus();
    return;
  }
  const r = await api.call('POST', '/api/v1/ra/citizens', registrationBody());
  if (r.status !== 201) {
    showApiError(box, r);
    box.focus();
    return;
  }
  $('register-form').reset();
  hideMsg($('reg-doc-number-ok'));
  const done = $('register-done');
  const key = r.body.activation === 'sent' ? 'console.register.done'
    : 'console.register.done_not_sent';
  done.replaceChildren(el('p', { i18n: key, vars: { user: r.body.user_id } }));
  done.hidden = false;
  location.hash = `#citizen/${r.body.id}`;
}

export function showRegister() {
  display('register');
}

// ---- a citizen's record --------------------------------------------------------

function yesNo(b) {
  return el('span', { i18n: b ? 'console.yes' : 'console.no' });
}

function renderCitizen() {
  const c = citizen;
  const doc = (c.documents || []).find((d) => d.status === 'current') || (c.documents || [])[0] || {};
  const cred = c.credential || {};
  $('citizen-name').textContent = `${c.given_name} ${c.surname}`;
  fillDl($('citizen-data'), [
    ['console.citizen.user_id', cred.user_id],
    ['console.citizen.person_id', c.person_id],
    ['console.citizen.level', el('span', { i18n: `console.register.level.${c.level}` })],
    ['console.citizen.document', `${doc.type || ''} ${doc.number || ''}`],
    ['console.citizen.doc_valid_until', doc.valid_until],
    ['console.citizen.mobile', c.mobile],
    ['console.citizen.email', c.email],
    ['console.citizen.active', yesNo(cred.active)],
    ['console.citizen.locked', yesNo(cred.locked)],
    ['console.citizen.certificates', (c.certificates || [])
      .map((x) => `${x.serial} (${x.profile}, ${x.status})`).join('; ') || '—'],
  ]);
  for (const b of $('citizen-card').querySelectorAll('.actions button')) {
    b.hidden = !api.hasRole(...b.dataset.role.split(' '));
  }
  $('citizen-card').hidden = false;
}

async function loadCitizen(id) {
  hideBox($('citizen-error'));
  $('citizen-card').hidden = true;
  const r = await api.call('GET', `/api/v1/ra/citizens/${id}`);
  if (r.status !== 200) {
    showApiError($('citizen-error'), r);
    return;
  }
  citizen = r.body;
  renderCitizen();
}

function submitCitizen(ev) {
  ev.preventDefault();
  $('register-done').hidden = true;
  const input = $('citizen-id');
  const id = input.value.trim().toLowerCase();
  if (!fieldError(input, ID_RE.test(id) ? null : 'console.citizen.id.bad')) {
    input.focus();
    return;
  }
  if (location.hash === `#citizen/${id}`) loadCitizen(id);
  else location.hash = `#citizen/${id}`;
}

// activation code, unlock, lock: POST with an empty body, then the record
// read again so that what is shown is what is stored
async function citizenAction(path, doneKey) {
  const result = $('citizen-result');
  hideMsg(result);
  hideBox($('citizen-error'));
  const r = await api.call('POST', `/api/v1/ra/citizens/${citizen.id}/${path}`, {});
  if (r.status !== 200) {
    showApiError($('citizen-error'), r);
    return;
  }
  await loadCitizen(citizen.id);
  showMsg(result, doneKey, { user: citizen.credential?.user_id });
}

export async function showCitizen(id) {
  display('citizen');
  if (id && ID_RE.test(id)) {
    $('citizen-id').value = id;
    fieldError($('citizen-id'), null);
    if (!citizen || citizen.id !== id) await loadCitizen(id);
  } else {
    $('register-done').hidden = true;
  }
}

// ---- approvals queue (ra_admin) ------------------------------------------------

function subjectName(req) {
  const s = req.subject || {};
  return s.common_name || s.CN || s.commonName || req.profile;
}

// R1.5: the creator of a request is offered no decision on it (the API
// refuses it too, 403 "two-person rule", audited).
function ownRequest(req) {
  return req.created_by === `operator:${api.currentSession().login}`;
}

function decisionControls(req) {
  const box = el('div', { class: 'decide' });
  if (req.status !== 'pending') return box;
  if (ownRequest(req)) {
    box.append(el('p', { class: 'note', i18n: 'console.requests.own' }));
    return box;
  }
  const reasonId = `reason-${req.id}`;
  const approve = el('button', { type: 'button', i18n: 'console.requests.approve',
                                 'aria-describedby': `req-${req.id}` });
  approve.addEventListener('click', () => decide(req, 'approve', null));
  const reason = el('textarea', { id: reasonId, rows: 2,
                                  'aria-describedby': `${reasonId}-error` });
  const reject = el('button', { type: 'button', class: 'secondary', i18n: 'console.requests.reject',
                                'aria-describedby': `req-${req.id}` });
  reject.addEventListener('click', () => {
    if (!fieldError(reason, reason.value.trim() ? null : 'console.requests.reason.needed')) {
      reason.focus();
      return;
    }
    decide(req, 'reject', reason.value.trim());
  });
  box.append(approve,
             el('div', { class: 'field' },
                el('label', { for: reasonId, i18n: 'console.requests.reason' }), reason,
                el('p', { id: `${reasonId}-error`, class: 'field-error', hidden: true })),
             reject);
  return box;
}

function renderRequests() {
  const list = $('requests-list');
  list.replaceChildren();
  for (const req of requests) {
    const dl = el('dl');
    fillDl(dl, [
      ['console.requests.id', req.id],
      ['console.requests.profile', req.profile],
      ['console.requests.org', req.org_id],
      ['console.requests.created_by', req.created_by],
      ['console.requests.created_at', req.created_at],
      ['console.requests.state', el('span', { i18n: `console.requests.status.${req.status}` })],
    ]);
    if (req.decided_by) dl.append(el('dt', { i18n: 'console.requests.decided_by' }), el('dd', {}, req.decided_by));
    if (req.reason) dl.append(el('dt', { i18n: 'console.requests.reason' }), el('dd', {}, req.reason));
    list.append(el('li', { class: 'card' },
                   el('h2', { id: `req-${req.id}` }, subjectName(req)), dl, decisionControls(req)));
  }
  $('requests-empty').hidden = requests.length > 0;
}

async function loadRequests() {
  hideBox($('requests-error'));
  const r = await api.call('GET', `/api/v1/ra/requests?status=${encodeURIComponent($('requests-status').value)}`);
  if (r.status !== 200) {
    showApiError($('requests-error'), r);
    return;
  }
  requests = r.body.requests || [];
  renderRequests();
}

async function decide(req, verb, reason) {
  const result = $('requests-result');
  hideMsg(result);
  hideBox($('requests-error'));
  const r = await api.call('POST', `/api/v1/ra/requests/${req.id}/${verb}`,
                           verb === 'reject' ? { reason } : {});
  if (r.status !== 200) {
    showApiError($('requests-error'), r);
    $('requests-title').focus();
    return;
  }
  await loadRequests();
  if (verb === 'approve') showMsg(result, 'console.requests.approved', { serial: r.body.serial, name: subjectName(req) });
  else showMsg(result, 'console.requests.rejected', { name: subjectName(req) });
  $('requests-title').focus();
}

export async function showRequests() {
  display('requests');
  await loadRequests();
}

// ---- wiring --------------------------------------------------------------------

export function init() {
  $('register-form').addEventListener('submit', submitRegistration);
  $('reg-doc-number').addEventListener('input', () => checkNumber(false));
  $('reg-doc-number').addEventListener('blur', () => {
    if ($('reg-doc-number').value) checkNumber(true);
  });
  $('reg-doc-type').addEventListener('change', docTypeChanged);
  $('citizen-form').addEventListener('submit', submitCitizen);
  $('citizen-activation').addEventListener('click',
    () => citizenAction('activation', 'console.citizen.activation.done'));
  $('citizen-unlock').addEventListener('click',
    () => citizenAction('unlock', 'console.citizen.unlock.done'));
  $('citizen-lock').addEventListener('click', () => {
    $('citizen-lock-confirm').hidden = false;
    $('citizen-lock-no').focus();
  });
  $('citizen-lock-no').addEventListener('click', () => {
    $('citizen-lock-confirm').hidden = true;
    $('citizen-lock').focus();
  });
  $('citizen-lock-yes').addEventListener('click', async () => {
    $('citizen-lock-confirm').hidden = true;
    await citizenAction('lock', 'console.citizen.lock.done');
    $('citizen-lock').focus();
  });
  $('requests-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    loadRequests();
  });
}
