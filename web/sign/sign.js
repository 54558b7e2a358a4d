// The citizen's authorization page of a signature transaction (R5.6):
// log in, review the documents, receive the OTP bound to them (R3.3),
// confirm with password + OTP (R3.4), return to the application.
// The password stays in this page's memory only, for the confirmation.
'use strict';

(function () {
  const id = decodeURIComponent(location.pathname.split('/').pop());
  const api = '/api/v1/transactions/' + encodeURIComponent(id);
  let token = null;
  let password = null;
  let redirectError = null;

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
    // once the code is sent, "Send a new code" takes over
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
    showError('');
    busy(button, true);
    try {
      const r = await fetch(api + '/pdf?document=' + encodeURIComponent(d.id), {
        headers: { Authorization: 'Bearer ' + token },
        credentials: 'omit', cache: 'no-store' });
      if (!r.ok) throw new Error('the PDF could not be fetched: ' + r.status);
      const url = URL.createObjectURL(await r.blob());
      const a = document.createElement('a');
      a.href = url;
      a.download = d.name.toLowerCase().endsWith('.pdf') ? d.name
                                                         : d.name + '.pdf';
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } catch (e) {
      showError(e.message);
    } finally {
      busy(button, false);
    }
  }

  function pdfInfo(d) {
    const info = document.createElement('span');
    info.className = 'pdf-info';
    info.textContent = 'PDF, ' + d.pages + (d.pages === 1 ? ' page, ' : ' pages, ') +
      size(d.size) + ' — signed as PAdES ' + d.conformance_level;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'secondary pdf-download';
    button.textContent = 'Download the PDF to read it';
    button.addEventListener('click', () => download(d, button));
    return [info, button];
  }

  function render(view) {
    redirectError = view.redirect_error || redirectError;
    $('app-name').textContent = view.application;
    const docs = view.documents || [];
    $('doc-count').textContent = docs.length === 1 ? '1 document'
                                                   : docs.length + ' documents';
    const list = $('documents');
    list.textContent = '';
    for (const d of docs) {
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
      list.append(li);
    }
    $('new-cert').hidden = view.certificate !== 'new';
    const acc = view.acceptance;
    $('acceptance').hidden = !acc;
    $('acceptance-sheet').textContent = acc ? acc.sheet : '';
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
      status('Logged in. Review the documents.');
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
      const view = await call('POST', '/otp');
      render(view);
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
    const button = $('sign-button');
    busy(button, true);
    try {
      const r = await call('POST', '/confirm', {
        password: password, otp: $('otp').value.trim() });
      password = null;
      status('Signed. Returning to the application…');
      location.assign(r.redirect);
    } catch (e) {
      showError(e.message);
      busy(button, false);
    }
  });

  $('cancel-button').addEventListener('click', async () => {
    showError('');
    try {
      const r = await call('POST', '/cancel');
      password = null;
      location.assign(r.redirect);
    } catch (e) {
      showError(e.message);
      if (redirectError) location.assign(redirectError);
    }
  });

  $('user-id').focus();
})();
