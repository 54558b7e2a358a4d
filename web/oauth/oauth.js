// The citizen's page of a CSC oauth2/authorize request (issue 14 item 3):
// log in, review what the application asks for (the signing service, or
// signatures of listed hashes with one certificate), receive the OTP bound
// to it (R3.3), approve with password + OTP (R3.4) or refuse; the browser
// then returns to the application's redirect URI with the code or the
// error.  The password stays in this page's memory only, for the approval.
// Words from the catalogues (oauth.* and the sign.* texts both pages
// share, issue 15 item 1); the steps, errors and focus as on /sign/.
import { holdForms } from '/web/common/forms.js';
import { setText, t } from '/web/common/i18n.js';
import { $, apiCaller, busy, clearErrors, closed, errorKey, fieldError, loginFilled,
  otpFilled, show, showError, startPage, status } from '/web/common/citizen.js';

const id = decodeURIComponent(location.pathname.split('/').pop());
let token = null;
let password = null;
const call = apiCaller('/api/v1/oauth/' + encodeURIComponent(id), () => token);

function count(n, one, many) {
  return t(n === 1 ? one : many, { n });
}

function documentItem(d, i) {
  const li = document.createElement('li');
  const name = document.createElement('strong');
  if (d.label) name.textContent = d.label;
  else setText(name, 'oauth.document', { n: i + 1 });
  const digest = document.createElement('span');
  digest.className = 'digest';
  digest.textContent = d.hash;
  li.append(name, document.createElement('br'), digest);
  return li;
}

// The application's own address, from where it takes the citizen back.
function appDomain(view) {
  try {
    return new URL(view.redirect_uri).host;
  } catch (e) {
    return '';
  }
}

function render(view) {
  const credential = view.scope === 'credential';
  setText($('ask'), credential ? 'oauth.review.credential' : 'oauth.review.service',
          { app: view.application });
  const domain = appDomain(view);
  $('app-domain').hidden = !domain;
  if (domain) setText($('app-domain'), 'sign.review.domain', { domain });
  $('description').textContent = view.description || '';
  $('description').hidden = !view.description;
  $('signing').hidden = !credential;
  if (!credential) return;
  const c = view.credential || {};
  setText($('credential'), 'oauth.review.certificate',
          { subject: c.subject || '', id: c.id || '' });
  const docs = view.documents || [];
  setText($('signatures'), 'oauth.review.signatures', {
    sigs: count(view.num_signatures, 'oauth.signatures.one', 'oauth.signatures.many') });
  setText($('doc-count'), 'oauth.review.docs', {
    docs: count(docs.length, 'sms.docs.one', 'sms.docs.many') });
  $('algorithm').textContent = view.digest_algorithm;
  $('documents').replaceChildren(...docs.map(documentItem));
  const acc = view.acceptance;
  $('acceptance').hidden = !acc;
  $('acceptance-sheet').textContent = acc ? acc.sheet : '';
}

// Before any login: who asks, and whether the request is still open.
async function intro() {
  try {
    const r = await call('GET', '');
    $('intro-app').textContent = r.application;
    setText($('intro-what'), r.scope === 'credential' ? 'oauth.intro.credential'
                                                      : 'oauth.intro.service');
    return true;
  } catch (e) {
    const key = errorKey(e, 'intro');
    if (key === 'sign.error.not_found' || key === 'sign.error.closed') {
      closed('oauth.closed.text');
      return false;
    }
    showError(key, { status: e.status });
    return true;
  }
}

async function submitLogin(ev) {
  ev.preventDefault();
  clearErrors();
  if (!loginFilled()) return;
  const button = $('login-button');
  busy(button, true);
  try {
    const view = await call('POST', '/login', {
      user_id: $('user-id').value.trim(), password: $('password').value });
    token = view.token;
    password = $('password').value;
    $('password').value = '';
    render(view);
    show('step-review');
    status('oauth.status.logged_in');
  } catch (e) {
    const key = errorKey(e, 'login');
    if (key === 'sign.error.login') fieldError($('password'), key);
    else if (key === 'sign.error.closed' || key === 'sign.error.not_found') closed('oauth.closed.text');
    else showError(key, { status: e.status });
  } finally {
    busy(button, false);
  }
}

async function sendOtp(button) {
  clearErrors();
  busy(button, true);
  try {
    render(await call('POST', '/otp'));
    show('step-confirm');
    status('sign.status.sent');
    $('otp').focus();
  } catch (e) {
    const key = errorKey(e, 'otp');
    if (key === 'sign.error.closed') closed('oauth.closed.text');
    else showError(key, { status: e.status });
  } finally {
    busy(button, false);
  }
}

async function submitApprove(ev) {
  ev.preventDefault();
  clearErrors();
  if (!otpFilled()) return;
  const button = $('approve-button');
  busy(button, true);
  try {
    const r = await call('POST', '/approve', { password, otp: $('otp').value.trim() });
    password = null;
    status('oauth.status.done');
    location.assign(r.redirect);
  } catch (e) {
    const key = errorKey(e, 'confirm');
    if (key === 'sign.error.otp') fieldError($('otp'), key);
    else if (key === 'sign.error.closed') closed('oauth.closed.text');
    else showError(key, { status: e.status });
    busy(button, false);
  }
}

// "Do not authorize" asks first.
function askDeny(on) {
  $('deny-confirm').hidden = !on;
  $('deny-button').hidden = on;
  (on ? $('deny-no') : $('deny-button')).focus();
}

async function deny() {
  showError(null);
  try {
    const r = await call('POST', '/deny');
    password = null;
    location.assign(r.redirect);
  } catch (e) {
    showError(errorKey(e, 'deny'), { status: e.status });
  }
}

const releaseForms = holdForms();

async function start() {
  await startPage('oauth.title');
  if (!(await intro())) return;
  $('login-form').addEventListener('submit', submitLogin);
  $('otp-button').addEventListener('click', () => sendOtp($('otp-button')));
  $('resend-button').addEventListener('click', () => sendOtp($('resend-button')));
  $('confirm-form').addEventListener('submit', submitApprove);
  $('deny-button').addEventListener('click', () => askDeny(true));
  $('deny-no').addEventListener('click', () => askDeny(false));
  $('deny-yes').addEventListener('click', deny);
  $('user-id').focus();
  releaseForms();
}

start();
