// The citizen's authorization page of a signature transaction (R5.6):
// log in, review the documents, receive the OTP bound to them (R3.3),
// confirm with password + OTP (R3.4), return to the application.
// The password stays in this page's memory only, for the confirmation.
// Every word comes from the catalogues web/i18n/<lang>.json (issue 15
// item 1); errors stand next to their field (WCAG 3.3.1), each new step's
// heading takes the focus (WCAG 2.4.3), and declining asks first.
import { languageSwitch, loadCatalogues, pickLang, setLang, setText, t }
  from '/web/common/i18n.js';

const id = decodeURIComponent(location.pathname.split('/').pop());
const api = '/api/v1/transactions/' + encodeURIComponent(id);
let token = null;
let password = null;
let redirectError = null;
let otpTimer = null;
let otpInfo = null; // {attempts, until} of the code last sent

const $ = (sel) => document.getElementById(sel);

function status(key, vars) { setText($('status'), key, vars); }

function hideMsg(e) {
  delete e.dataset.i18n;
  delete e.dataset.i18nVars;
  e.textContent = '';
  e.hidden = true;
}

function showError(key, vars) {
  if (key) {
    setText($('error'), key, vars);
    $('error').hidden = false;
  } else {
    hideMsg($('error'));
  }
}

// The message of one field, next to it, and the field marked invalid.
function fieldError(input, key, vars) {
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

function clearErrors() {
  showError(null);
  for (const f of ['user-id', 'password', 'otp']) fieldError($(f), null);
}

const STEPS = ['step-login', 'step-review', 'step-confirm', 'step-closed'];

// Shows a step (the review stays above the confirmation) and moves the
// focus to its heading.
function show(step) {
  for (const s of STEPS)
    $(s).hidden = s !== step && !(step === 'step-confirm' && s === 'step-review');
  // once the code is sent, "Send a new code" takes over
  $('otp-button').hidden = step === 'step-confirm';
  const h = $(step).querySelector('h2');
  document.title = `${h.textContent} – ${t('sign.title')}`;
  h.focus();
}

class ApiError extends Error {
  constructor(status, body) {
    super(body.message || `HTTP ${status}`);
    this.status = status;
    this.code = body.error || '';
  }
}

async function call(method, path, body) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = 'Bearer ' + token;
  let r;
  try {
    r = await fetch(api + path, {
      method, headers, body: body ? JSON.stringify(body) : undefined,
      credentials: 'omit', cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, { error: 'network' });
  }
  let data = {};
  try { data = await r.json(); } catch (e) { data = {}; }
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

// The catalogue key of a refusal: by its HTTP status and stable code, in
// the words of the step it happened in.
function errorKey(e, step) {
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

// A transaction that can no longer be signed: said once, no form left.
function closed(key) {
  setText($('closed-text'), key);
  show('step-closed');
}

function busy(button, on) { button.disabled = on; }

function size(n) {
  if (n >= 1048576) return (n / 1048576).toFixed(1) + ' MB';
  if (n >= 1024) return Math.round(n / 1024) + ' kB';
  return n + ' bytes';
}

// The PDF as the application sent it (issue 14 item 4).  The server
// serves it as an attachment (never rendered in this origin); the
// session token is a header, so the page fetches it and hands the bytes
// to the browser as a download.
async function download(d, button) {
  showError(null);
  busy(button, true);
  try {
    const r = await fetch(api + '/pdf?document=' + encodeURIComponent(d.id), {
      headers: { Authorization: 'Bearer ' + token },
      credentials: 'omit', cache: 'no-store' });
    if (!r.ok) throw new ApiError(r.status, {});
    const url = URL.createObjectURL(await r.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = d.name.toLowerCase().endsWith('.pdf') ? d.name : d.name + '.pdf';
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  } catch (e) {
    showError('sign.error.pdf', { status: e.status });
  } finally {
    busy(button, false);
  }
}

function pdfInfo(d) {
  const info = document.createElement('span');
  info.className = 'pdf-info';
  setText(info, 'sign.pdf.info', {
    pages: t(d.pages === 1 ? 'sign.pdf.page' : 'sign.pdf.pages', { n: d.pages }),
    size: size(d.size), level: d.conformance_level });
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'secondary pdf-download';
  setText(button, 'sign.pdf.download');
  button.addEventListener('click', () => download(d, button));
  return [info, button];
}

function documentItem(view, d) {
  const li = document.createElement('li');
  const name = document.createElement('strong');
  name.textContent = d.name;
  const title = document.createElement('span');
  title.className = 'doc-title';
  title.textContent = d.title;
  const digest = document.createElement('span');
  digest.className = 'digest';
  digest.textContent = view.digest_algorithm + ': ' + d.digest;
  li.append(name, title, digest);
  if (d.format === 'PAdES') li.append(...pdfInfo(d));
  return li;
}

// The application's own address, from where it takes the citizen back.
function appDomain(view) {
  try {
    return new URL(view.redirect_error).host;
  } catch (e) {
    return '';
  }
}

function render(view) {
  redirectError = view.redirect_error || redirectError;
  const docs = view.documents || [];
  setText($('review-lead'), docs.length === 1 ? 'sign.review.lead.one'
                                                : 'sign.review.lead.many',
          { app: view.application, n: docs.length });
  const domain = appDomain(view);
  $('app-domain').hidden = !domain;
  if (domain) setText($('app-domain'), 'sign.review.domain', { domain });
  $('documents').replaceChildren(...docs.map((d) => documentItem(view, d)));
  // digests only: the citizen sees a fingerprint, not the text, and is
  // told what that means
  const digestsOnly = docs.some((d) => d.format !== 'PAdES');
  $('digest-note').hidden = !digestsOnly;
  if (digestsOnly) setText($('digest-note'), 'sign.review.digests',
                           { alg: view.digest_algorithm });
  $('new-cert').hidden = view.certificate !== 'new';
  const acc = view.acceptance;
  $('acceptance').hidden = !acc;
  $('acceptance-sheet').textContent = acc ? acc.sheet : '';
}

// What the code allows (time and attempts left), when the server says it:
// refreshed every 15 s and after each wrong try.
function otpHelp() {
  const help = $('otp-help');
  if (!otpInfo || !otpInfo.until) {
    setText(help, 'sign.confirm.help');
    return;
  }
  const left = Math.max(0, Math.round((otpInfo.until - Date.now()) / 1000));
  setText(help, left ? 'sign.confirm.left' : 'sign.confirm.expired', {
    min: Math.floor(left / 60), s: String(left % 60).padStart(2, '0'),
    attempts: otpInfo.attempts });
  if (!left) clearInterval(otpTimer);
}

function otpSent(otp) {
  clearInterval(otpTimer);
  otpInfo = otp && otp.expires_in
    ? { attempts: otp.attempts, until: Date.now() + otp.expires_in * 1000 }
    : null;
  otpHelp();
  if (otpInfo) otpTimer = setInterval(otpHelp, 15000);
}

async function submitLogin(ev) {
  ev.preventDefault();
  clearErrors();
  const user = $('user-id');
  const pass = $('password');
  if (!fieldError(user, user.value.trim() ? null : 'sign.error.user_id.empty') ||
      !fieldError(pass, pass.value ? null : 'sign.error.password.empty'))
    return;
  const button = $('login-button');
  busy(button, true);
  try {
    const view = await call('POST', '/login', {
      user_id: user.value.trim(), password: pass.value });
    token = view.token;
    password = pass.value;
    pass.value = '';
    render(view);
    if (view.state && view.state !== 'pending') {
      closed('sign.closed.' + (view.state === 'signed' ? 'signed' : 'other'));
      return;
    }
    show('step-review');
    status('sign.status.logged_in');
  } catch (e) {
    const key = errorKey(e, 'login');
    if (key === 'sign.error.login') fieldError(pass, key);
    else if (key === 'sign.error.not_found' || key === 'sign.error.closed') closed(key);
    else showError(key, { status: e.status });
  } finally {
    busy(button, false);
  }
}

async function sendOtp(button) {
  clearErrors();
  busy(button, true);
  try {
    const view = await call('POST', '/otp');
    render(view);
    otpSent(view.otp);
    show('step-confirm');
    status('sign.status.sent');
    $('otp').focus();
  } catch (e) {
    const key = errorKey(e, 'otp');
    if (key === 'sign.error.closed' || key === 'sign.error.not_found') closed(key);
    else showError(key, { status: e.status });
  } finally {
    busy(button, false);
  }
}

async function submitConfirm(ev) {
  ev.preventDefault();
  clearErrors();
  const otp = $('otp');
  if (!fieldError(otp, /^[0-9]{6,8}$/.test(otp.value.trim()) ? null
                                                            : 'sign.error.otp.format'))
    return;
  const button = $('sign-button');
  busy(button, true);
  try {
    const r = await call('POST', '/confirm', { password, otp: otp.value.trim() });
    password = null;
    clearInterval(otpTimer);
    status('sign.status.signed');
    location.assign(r.redirect);
  } catch (e) {
    const key = errorKey(e, 'confirm');
    if (key === 'sign.error.otp') {
      // every wrong try of a live code costs one of its attempts
      if (otpInfo && otpInfo.attempts > 0) otpInfo.attempts -= 1;
      otpHelp();
      fieldError(otp, key);
    }
    else if (key === 'sign.error.closed') closed(key);
    else showError(key, { status: e.status });
    busy(button, false);
  }
}

// "Do not sign" asks first: a slip of the finger must not fail the
// transaction for good.
function askCancel(on) {
  $('cancel-confirm').hidden = !on;
  $('cancel-button').hidden = on;
  (on ? $('cancel-no') : $('cancel-button')).focus();
}

async function cancel() {
  showError(null);
  try {
    const r = await call('POST', '/cancel');
    password = null;
    location.assign(r.redirect);
  } catch (e) {
    showError(errorKey(e, 'cancel'), { status: e.status });
    if (redirectError) location.assign(redirectError);
  }
}

// The page's own HTTP status says where the transaction stands (404
// unknown, 410 no longer open): said before any password is asked for.
function pageStatus() {
  const nav = performance.getEntriesByType('navigation')[0];
  return nav && nav.responseStatus ? nav.responseStatus : 200;
}

async function start() {
  await loadCatalogues();
  setLang(pickLang(), false);
  languageSwitch($('langs'));
  const standing = pageStatus();
  if (standing === 404 || standing === 410) {
    closed(standing === 404 ? 'sign.error.not_found' : 'sign.closed.other');
    return;
  }
  $('login-form').addEventListener('submit', submitLogin);
  $('otp-button').addEventListener('click', () => sendOtp($('otp-button')));
  $('confirm-form').addEventListener('submit', submitConfirm);
  $('resend-button').addEventListener('click', () => sendOtp($('resend-button')));
  $('cancel-button').addEventListener('click', () => askCancel(true));
  $('cancel-no').addEventListener('click', () => askCancel(false));
  $('cancel-yes').addEventListener('click', cancel);
  $('user-id').focus();
}

start();
