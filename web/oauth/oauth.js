// The citizen's page of a CSC oauth2/authorize request (issue 14 item 3):
// log in, review what the application asks for (the signing service, or
// signatures of listed hashes with one certificate), receive the OTP bound
// to it (R3.3), approve with password + OTP (R3.4) or refuse; the browser
// then returns to the application's redirect URI with the code or the
// error.  The password stays in this page's memory only, for the approval.
'use strict';

(function () {
  const id = decodeURIComponent(location.pathname.split('/').pop());
  const api = '/api/v1/oauth/' + encodeURIComponent(id);
  let token = null;
  let password = null;

  const $ = (sel) => document.getElementById(sel);

  function status(text) { $('status').textContent = text || ''; }

  function showError(text) {
    const e = $('error');
    e.textContent = text || '';
    e.hidden = !text;
  }

  function show(step) {
    for (const s of ['step-login', 'step-review', 'step-confirm'])
      $(s).hidden = s !== step && !(step === 'step-confirm' && s === 'step-review');
    $('otp-button').hidden = step === 'step-confirm';
  }

  async function call(method, path, body) {
    const headers = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = 'Bearer ' + token;
    const r = await fetch(api + path, {
      method, headers, body: body ? JSON.stringify(body) : undefined,
      credentials: 'omit', cache: 'no-store' });
    let data = {};
    try { data = await r.json(); } catch (e) { data = {}; }
    if (!r.ok) throw new Error(data.message || ('request failed: ' + r.status));
    return data;
  }

  function busy(button, on) { button.disabled = on; }

  function plural(n, one, many) { return n === 1 ? '1 ' + one : n + ' ' + many; }

  function renderDocuments(view) {
    const docs = view.documents || [];
    $('doc-count').textContent = plural(docs.length, 'document', 'documents');
    $('signatures').textContent = plural(view.num_signatures, 'signature',
                                         'signatures');
    $('algorithm').textContent = view.digest_algorithm;
    const list = $('documents');
    list.textContent = '';
    docs.forEach((d, i) => {
      const li = document.createElement('li');
      const name = document.createElement('strong');
      name.textContent = d.label || ('Document ' + (i + 1));
      const digest = document.createElement('span');
      digest.className = 'digest';
      digest.textContent = d.hash;
      li.append(name, document.createElement('br'), digest);
      list.append(li);
    });
  }

  function render(view) {
    const credential = view.scope === 'credential';
    $('ask').textContent = view.application + (credential
      ? ' asks you to sign with your cloud certificate.'
      : ' asks to use the signing service on your behalf.');
    $('description').textContent = view.description || '';
    $('description').hidden = !view.description;
    $('signing').hidden = !credential;
    if (!credential) return;
    const c = view.credential || {};
    $('credential').textContent = (c.subject || '') + ' (' + (c.id || '') + ')';
    renderDocuments(view);
    const acc = view.acceptance;
    $('acceptance').hidden = !acc;
    $('acceptance-sheet').textContent = acc ? acc.sheet : '';
  }

  async function intro() {
    try {
      const r = await call('GET', '');
      $('intro-app').textContent = r.application;
      $('intro-what').textContent = r.scope === 'credential'
        ? 'asks you to authorize signatures with your cloud certificate.'
        : 'asks to use the signing service on your behalf.';
    } catch (e) {
      showError(e.message);
    }
  }

  $('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    showError('');
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
      status('Logged in. Review what you authorize.');
      $('review-title').focus();
    } catch (e) {
      showError(e.message);
    } finally {
      busy(button, false);
    }
  });

  async function sendOtp(button) {
    showError('');
    busy(button, true);
    try {
      render(await call('POST', '/otp'));
      show('step-confirm');
      status('Code sent to your mobile phone.');
      $('otp').focus();
    } catch (e) {
      showError(e.message);
    } finally {
      busy(button, false);
    }
  }

  $('otp-button').addEventListener('click', () => sendOtp($('otp-button')));
  $('resend-button').addEventListener('click', () => sendOtp($('resend-button')));

  $('confirm-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    showError('');
    const button = $('approve-button');
    busy(button, true);
    try {
      const r = await call('POST', '/approve', {
        password: password, otp: $('otp').value.trim() });
      password = null;
      status('Authorized. Returning to the application…');
      location.assign(r.redirect);
    } catch (e) {
      showError(e.message);
      busy(button, false);
    }
  });

  $('deny-button').addEventListener('click', async () => {
    showError('');
    try {
      const r = await call('POST', '/deny');
      password = null;
      location.assign(r.redirect);
    } catch (e) {
      showError(e.message);
    }
  });

  intro();
  $('user-id').focus();
})();
