// The citizen portal (issue 15 item 4): log in with user id + password +
// SMS code, then my data, my certificates (download, revocation with an
// SMS code bound to the certificate), my signature history with receipts,
// and the password change.  The session is an HttpOnly cookie this script
// never sees; it keeps only the CSRF token the login answered (memory) and
// sends it with every call that changes something.  The API decides every
// call (src/http/http_portal.c).
import { apiFetch } from '/web/common/api.js';
import { holdForms } from '/web/common/forms.js';
import { languageSwitch, loadCatalogues, pickLang, setLang, t } from '/web/common/i18n.js';
import { $, el, fieldError, showMsg, hideMsg, fillDl, showApiError, hideBox }
  from '/web/console/ui.js';

let csrf = null;
let loginOtp = null;
let pending = null; // {kind: 'revoke' | 'accept', serial, otpId}

async function call(method, path, body) {
  const headers = csrf && method !== 'GET' ? { 'X-CSRF-Token': csrf } : {};
  return apiFetch(method, path, body, headers, 'same-origin');
}

function focusHeading(h) {
  document.title = `${h.textContent} – ${t('portal.title')}`;
  h.focus();
}

function display(id) {
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== `view-${id}`;
  $('nav').hidden = id !== 'home';
  $('logout').hidden = id !== 'home';
  $('who').hidden = id !== 'home';
  focusHeading($(`view-${id}`).querySelector('h1'));
}

// ---- login -------------------------------------------------------------------

function loginFailed(r) {
  const key = r.status === 401 ? 'portal.login.failed'
    : r.status === 429 ? 'portal.login.throttled'
      : r.status === 403 ? 'portal.login.locked' : 'console.error.other';
  showMsg($('login-error'), key, { status: r.status });
}

async function sendLoginCode(ev) {
  ev.preventDefault();
  const f = $('login-form');
  hideMsg($('login-error'));
  let ok = fieldError(f.user, f.user.value.trim() ? null : 'console.required');
  ok = fieldError(f.password, f.password.value ? null : 'console.required') && ok;
  if (!ok) {
    f.querySelector('[aria-invalid="true"]').focus();
    return;
  }
  const r = await call('POST', '/api/v1/portal/login/otp',
                       { user_id: f.user.value.trim(), password: f.password.value });
  if (r.status !== 200) {
    loginFailed(r);
    f.password.focus();
    return;
  }
  loginOtp = r.body.otp_id;
  $('login-code').hidden = false;
  showMsg($('login-sent'), 'portal.otp.sent', { minutes: Math.ceil(r.body.expires_in / 60) });
  $('login-send').hidden = true;
  f.otp.focus();
}

async function enter() {
  const f = $('login-form');
  hideMsg($('login-error'));
  if (!fieldError(f.otp, /^[0-9]{6}$/.test(f.otp.value.trim()) ? null : 'portal.otp.bad')) {
    f.otp.focus();
    return;
  }
  const r = await call('POST', '/api/v1/portal/login', {
    user_id: f.user.value.trim(), password: f.password.value,
    otp_id: loginOtp, otp: f.otp.value.trim(),
  });
  f.otp.value = '';
  if (r.status !== 200) {
    fieldError(f.otp, 'portal.otp.wrong');
    f.otp.focus();
    return;
  }
  f.password.value = '';
  csrf = r.body.csrf;
  await showHome();
}

function resetLogin() {
  csrf = null;
  loginOtp = null;
  $('login-code').hidden = true;
  $('login-send').hidden = false;
  display('login');
}

async function logout() {
  await call('POST', '/api/v1/portal/logout', {});
  resetLogin();
  setTimeout(() => showMsg($('status'), 'portal.logout.done'), 0);
}

// ---- my data -------------------------------------------------------------------

function day(iso) {
  return iso ? iso.slice(0, 10) : '—';
}

async function loadData() {
  const r = await call('GET', '/api/v1/portal/me');
  if (r.status !== 200) return r;
  const me = r.body;
  csrf = me.csrf || csrf;
  $('who').replaceChildren(el('span', {}, `${me.given_name} ${me.surname}`));
  fillDl($('data-list'), [
    ['portal.data.name', `${me.given_name} ${me.surname}`],
    ['portal.data.user', me.user_id],
    ['portal.data.mobile', me.mobile],
    ['portal.data.email', me.email],
    ['portal.data.document', me.document ? `${me.document.type} ${me.document.number}` : null],
    ['portal.data.expiry', me.document ? day(me.document.expiry) : null],
    ['portal.data.password_expiry', day(me.password_expires_at)],
  ]);
  return null;
}

// ---- my certificates -----------------------------------------------------------

function certCard(c) {
  const base = `/api/v1/portal/certificates/${encodeURIComponent(c.serial)}`;
  const dl = el('dl', {});
  fillDl(dl, [
    ['portal.certs.serial', c.serial],
    ['portal.certs.subject', c.subject],
    ['portal.certs.issuer', c.issuer],
    ['portal.certs.valid', `${day(c.not_before)} – ${day(c.not_after)}`],
  ]);
  const pendingAccept = c.status === 'valid' && !c.accepted;
  const li = el('li', { class: 'card' },
    el('h3', {}, el('span', { i18n: `portal.certs.status.${c.status}` })),
    pendingAccept ? el('p', { class: 'note', i18n: 'portal.certs.unaccepted' }) : null, dl,
    el('p', {},
      el('a', { href: `${base}?format=pem`, download: `${c.serial}.pem`, i18n: 'portal.certs.pem' }),
      ' · ',
      el('a', { href: `${base}?format=der`, download: `${c.serial}.cer`, i18n: 'portal.certs.der' })));
  const actions = pendingAccept ? ['accept', 'revoke'] : c.status === 'valid' ? ['revoke'] : [];
  for (const kind of actions) {
    const b = el('button', { type: 'button', class: kind === 'revoke' ? 'danger' : null,
                             i18n: `portal.certs.${kind}` });
    b.addEventListener('click', () => startAction(kind, c));
    li.append(b);
  }
  return li;
}

async function loadCerts() {
  const r = await call('GET', '/api/v1/portal/certificates');
  if (r.status !== 200) return r;
  const list = $('certs-list');
  list.replaceChildren(...r.body.certificates.map(certCard));
  $('certs-empty').hidden = r.body.certificates.length > 0;
  return null;
}

// Revocation and acceptance: the same steps (password, an SMS code bound
// to this certificate, confirmation) in their own panels #revoke, #accept.
const ACTIONS = {
  revoke: { path: 'revocation', done: 'portal.revoke.done' },
  accept: { path: 'acceptance', done: 'portal.accept.done' },
};

function actionPath(suffix) {
  return `/api/v1/portal/certificates/${encodeURIComponent(pending.serial)}/${ACTIONS[pending.kind].path}${suffix}`;
}

async function startAction(kind, c) {
  endAction();
  pending = { kind, serial: c.serial, otpId: null };
  hideBox($(`${kind}-error`));
  hideMsg($('certs-result'));
  $(`${kind}-what`).replaceChildren(el('span', { i18n: 'portal.revoke.what', vars: { serial: c.serial } }));
  $(`${kind}-code`).hidden = true;
  $(`${kind}-send`).hidden = false;
  if (kind === 'accept') {
    const r = await call('GET', actionPath(''));
    $('accept-sheet').textContent = r.status === 200 ? r.body.sheet : '';
    $('accept-read').checked = false;
  }
  $(kind).hidden = false;
  $(`${kind}-title`).focus();
}

function endAction() {
  pending = null;
  for (const kind of Object.keys(ACTIONS)) {
    $(kind).hidden = true;
    $(`${kind}-password`).value = '';
    $(`${kind}-otp`).value = '';
  }
}

async function sendActionCode() {
  const kind = pending.kind;
  hideBox($(`${kind}-error`));
  const pw = $(`${kind}-password`);
  if (kind === 'accept' &&
      !fieldError($('accept-read'), $('accept-read').checked ? null : 'portal.accept.read.needed')) {
    $('accept-read').focus();
    return;
  }
  if (!fieldError(pw, pw.value ? null : 'console.required')) {
    pw.focus();
    return;
  }
  const r = await call('POST', actionPath('/otp'), {});
  if (r.status !== 200) {
    showApiError($(`${kind}-error`), r);
    return;
  }
  pending.otpId = r.body.otp_id;
  $(`${kind}-code`).hidden = false;
  $(`${kind}-send`).hidden = true;
  showMsg($(`${kind}-sent`), 'portal.otp.sent', { minutes: Math.ceil(r.body.expires_in / 60) });
  $(`${kind}-otp`).focus();
}

async function confirmAction(ev) {
  ev.preventDefault();
  if (!pending || !pending.otpId) return;
  const { kind, serial } = pending;
  const otp = $(`${kind}-otp`);
  if (!fieldError(otp, /^[0-9]{6}$/.test(otp.value.trim()) ? null : 'portal.otp.bad')) {
    otp.focus();
    return;
  }
  const r = await call('POST', actionPath(''), {
    password: $(`${kind}-password`).value, otp_id: pending.otpId, otp: otp.value.trim(),
  });
  otp.value = '';
  if (r.status !== 200) {
    showApiError($(`${kind}-error`), r);
    return;
  }
  endAction();
  await loadCerts();
  showMsg($('certs-result'), ACTIONS[kind].done, { serial });
  $('certs-title').focus();
}

// ---- my signature history ------------------------------------------------------

function historyRow(tx) {
  const base = `/api/v1/portal/history/${tx.id}`;
  return el('tr', {},
    el('td', {}, (tx.signed_at || tx.created_at).replace('T', ' ').replace('Z', ' UTC')),
    el('td', {}, tx.application),
    el('td', {}, tx.documents.join(', ')),
    el('td', {}, el('span', { i18n: `portal.state.${tx.state}` })),
    el('td', {},
      el('a', { href: `${base}/receipt`, download: `receipt-${tx.id}.json`, i18n: 'portal.history.json' }),
      ' · ',
      el('a', { href: `${base}/receipt.tsr`, download: `receipt-${tx.id}.tsr`, i18n: 'portal.history.tsr' })));
}

async function loadHistory() {
  const r = await call('GET', '/api/v1/portal/history');
  if (r.status !== 200) return r;
  const txs = r.body.transactions;
  $('history-rows').replaceChildren(...txs.map(historyRow));
  $('history-table').hidden = txs.length === 0;
  $('history-empty').hidden = txs.length > 0;
  return null;
}

// ---- my password ---------------------------------------------------------------

async function loadPolicy() {
  const r = await call('GET', '/api/v1/policy');
  if (r.status !== 200) return;
  const p = r.body.password;
  $('password-policy').replaceChildren(el('span', {
    i18n: 'portal.password.policy',
    vars: { min: p.min_length, classes: p.classes_required, history: p.history, days: p.expiry_days },
  }));
}

async function changePassword(ev) {
  ev.preventDefault();
  const f = ev.target;
  hideBox($('password-error'));
  hideMsg($('password-result'));
  let ok = fieldError(f.current, f.current.value ? null : 'console.required');
  ok = fieldError(f.new, f.new.value ? null : 'console.required') && ok;
  ok = fieldError(f.again, f.again.value === f.new.value ? null : 'portal.password.mismatch') && ok;
  if (!ok) {
    f.querySelector('[aria-invalid="true"]').focus();
    return;
  }
  const r = await call('POST', '/api/v1/portal/password',
                       { password: f.current.value, new_password: f.new.value });
  if (r.status === 401) {
    fieldError(f.current, 'portal.password.wrong');
    f.current.focus();
    return;
  }
  if (r.status !== 200) {
    showApiError($('password-error'), r);
    f.new.focus();
    return;
  }
  f.reset();
  showMsg($('password-result'), 'portal.password.done');
}

// ---- start ---------------------------------------------------------------------

async function showHome() {
  const failed = await loadData();
  if (failed) {
    resetLogin();
    return;
  }
  await Promise.all([loadCerts(), loadHistory(), loadPolicy()]);
  display('home');
}

const releaseForms = holdForms();

async function start() {
  await loadCatalogues();
  setLang(pickLang(), false);
  languageSwitch($('langs'));
  $('login-form').addEventListener('submit', sendLoginCode);
  $('login-enter').addEventListener('click', enter);
  $('login-otp').addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      enter();
    }
  });
  $('logout').addEventListener('click', logout);
  for (const kind of Object.keys(ACTIONS)) {
    $(`${kind}-send`).addEventListener('click', sendActionCode);
    $(`${kind}-form`).addEventListener('submit', confirmAction);
    $(`${kind}-no`).addEventListener('click', endAction);
  }
  $('password-form').addEventListener('submit', changePassword);
  releaseForms();
  // a reload keeps the session (the cookie); the CSRF token comes back
  // with my data
  await showHome();
}

start().catch((e) => {
  $('status').textContent = String(e);
});
