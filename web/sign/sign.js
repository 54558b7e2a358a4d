// The citizen's authorization page of a signature transaction (R5.6):
// log in, review the documents, receive the OTP bound to them (R3.3),
// confirm with password + OTP (R3.4), return to the application.
// The password stays in this page's memory only, for the confirmation.
// Every word comes from the catalogues web/i18n/<lang>.json (issue 15
// item 1); errors stand next to their field (WCAG 3.3.1), each new step's
// heading takes the focus (WCAG 2.4.3), and declining asks first.
import { holdForms } from '/web/common/forms.js';
import { setText, t } from '/web/common/i18n.js';
import { renderPdf } from '/web/sign/preview.js';
import { $, ApiError, apiCaller, busy, clearErrors, closed, errorKey, fieldError, loginFilled,
  otpFilled, pageStatus, show, showError, startPage, status } from '/web/common/citizen.js';

const id = decodeURIComponent(location.pathname.split('/').pop());
let token = null;
let password = null;
let redirectError = null;
let otpTimer = null;
let otpInfo = null; // {attempts, until} of the code last sent
const api = '/api/v1/transactions/' + encodeURIComponent(id);
const call = apiCaller(api, () => token);

function size(n) {
  if (n >= 1048576) return (n / 1048576).toFixed(1) + ' MB';
  if (n >= 1024) return Math.round(n / 1024) + ' kB';
  return n + ' bytes';
}

// The PDF as the application sent it (issue 14 item 4).  The server
// serves it as an attachment (never rendered in this origin); the
// session token is a header, so the page fetches the bytes itself, for
// the preview and for the download.
async function fetchPdf(d) {
  const r = await fetch(api + '/pdf?document=' + encodeURIComponent(d.id), {
    headers: { Authorization: 'Bearer ' + token },
    credentials: 'omit', cache: 'no-store' });
  if (!r.ok) throw new ApiError(r.status, {});
  return r.arrayBuffer();
}

async function download(d, button) {
  showError(null);
  busy(button, true);
  try {
    const url = URL.createObjectURL(new Blob([await fetchPdf(d)],
                                             { type: 'application/pdf' }));
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

// The pages themselves, drawn in the page when the citizen opens the
// preview (the first PDF opens by itself).  A PDF pdf.js cannot draw is
// still signable: the citizen is told, and can download it.
function pdfPreview(d, open) {
  const details = document.createElement('details');
  details.className = 'pdf-preview';
  const summary = document.createElement('summary');
  setText(summary, 'sign.preview.show');
  const pages = document.createElement('div');
  pages.className = 'pdf-pages';
  // a scrolling region is reached and scrolled with the keyboard too
  pages.tabIndex = 0;
  pages.setAttribute('role', 'region');
  pages.dataset.i18nLabel = 'sign.preview.region';
  pages.setAttribute('aria-label', t('sign.preview.region'));
  details.append(summary, pages);
  let drawn = false;
  details.addEventListener('toggle', async () => {
    if (!details.open || drawn) return;
    drawn = true;
    const note = setText(document.createElement('p'), 'sign.preview.loading');
    pages.replaceChildren(note);
    pages.setAttribute('aria-busy', 'true');
    try {
      const bytes = await fetchPdf(d);
      note.remove();
      await renderPdf(bytes, pages);
    } catch (e) {
      drawn = false;
      note.className = 'error';
      setText(note, 'sign.error.preview', { status: e.status || '-' });
    } finally {
      pages.removeAttribute('aria-busy');
    }
  });
  details.open = open;
  return details;
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

function documentItem(view, d, first) {
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
  if (d.format === 'PAdES') li.append(...pdfInfo(d), pdfPreview(d, first));
  return li;
}

// Built once per document: a later view (after /otp) keeps the drawn
// previews instead of fetching and drawing them again.
const items = new Map();
function documentItems(view, docs) {
  let first = true;
  return docs.map((d) => {
    if (!items.has(d.id)) {
      items.set(d.id, documentItem(view, d, first && d.format === 'PAdES'));
    }
    if (d.format === 'PAdES') first = false;
    return items.get(d.id);
  });
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
  $('documents').replaceChildren(...documentItems(view, docs));
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
  if (!loginFilled()) return;
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

// R5.4: a certificate not yet accepted is accepted explicitly, after its
// sheet was shown, before any code is sent or used.
function acceptanceGiven() {
  if ($('acceptance').hidden) return true;
  return fieldError($('accept'), $('accept').checked ? null : 'sign.error.accept');
}

async function sendOtp(button) {
  clearErrors();
  fieldError($('accept'), null);
  if (!acceptanceGiven()) return;
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
  if (!acceptanceGiven() || !otpFilled()) return;
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

const releaseForms = holdForms();

async function start() {
  await startPage('sign.title');
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
  releaseForms();
}

start();
