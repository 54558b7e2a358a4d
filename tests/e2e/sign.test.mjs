// Issue 7: the citizen's authorization page (web/sign/) end to end in a real
// browser (Debian chromium driven by playwright-core) against a real llaved:
// an application opens a transaction, the citizen logs in, reviews the
// documents, receives the OTP (read from DIR/outbox), confirms and lands on
// the application's redirect URL; the signatures are then checked with
// `openssl pkeyutl -verify`.  Declining lands on the error URL.  A PDF
// document (issue 14 item 4) is shown with its pages and size, downloaded
// from the page byte for byte, and signed as PAdES: the application's
// signed PDF starts with the input and poppler's pdfsig finds the
// signature valid.
// Screenshots are kept in <build>/tests/e2e/artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ARTIFACTS, BUILD, axeViolations, launchBrowser, startServer, stopAll }
  from './harness.mjs';



let tmp, dir, server, url, browser, creds;

function llave(...args) {
  return execFileSync(path.join(BUILD, 'llave'), args, { encoding: 'utf8' });
}

// The last one-time code SMS to sign sent to mobile ("…: your code is
// 123456, to sign 2 documents for …", or in Spanish "su clave es …, para
// firmar …").
function lastOtp(mobile) {
  const box = path.join(dir, 'outbox');
  const codes = fs.readdirSync(box).sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(box, f), 'utf8')))
    .filter((m) => m.to === mobile)
    .map((m) => m.text.match(/(?:your code is|su clave es) (\d+), (?:to sign|para firmar)/))
    .filter(Boolean);
  return codes.at(-1)[1];
}

async function api(method, p, body) {
  const auth = Buffer.from(`${creds.app.client_id}:${creds.app.client_secret}`)
    .toString('base64');
  const r = await fetch(url + p, {
    method, body: body ? JSON.stringify(body) : undefined,
    headers: { 'Content-Type': 'application/json',
               Authorization: 'Basic ' + auth } });
  return { status: r.status, json: await r.json() };
}

function digest(text) {
  return createHash('sha256').update(text).digest();
}

async function newTransaction(docs) {
  const r = await api('POST', '/api/v1/transactions', {
    owner: creds.citizen.user_id, digest_algorithm: 'SHA-256',
    documents: docs.map((d, i) => ({
      id: `d${i}`, name: d.name, title: d.title,
      digest: digest(d.text).toString('base64') })),
    redirect_ok_url: `${url}/healthz?result=ok`,
    redirect_error_url: `${url}/healthz?result=error` });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return r.json;
}

function pkcs1Verifies(certDer, dg, sig) {
  const f = (n, b) => { const p = path.join(tmp, n); fs.writeFileSync(p, b); return p; };
  const cert = f('c.der', certDer);
  const pub = path.join(tmp, 'pub.pem');
  execFileSync('openssl', ['x509', '-inform', 'DER', '-in', cert, '-pubkey',
                           '-noout', '-out', pub]);
  try {
    const out = execFileSync('openssl', [
      'pkeyutl', '-verify', '-pubin', '-inkey', pub, '-in', f('d.bin', dg),
      '-sigfile', f('s.bin', sig), '-pkeyopt', 'digest:sha256'],
      { encoding: 'utf8' });
    return out.includes('Signature Verified Successfully');
  } catch (e) {
    return false;
  }
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'llave-e2e-'));
  dir = path.join(tmp, 'demo');
  const cfg = path.join(tmp, 'config.json');
  fs.writeFileSync(cfg, JSON.stringify({ argon2_memory_mib: 1, argon2_time: 1 }));
  execFileSync(path.join(BUILD, 'llave'), ['init', dir, '--demo', '--config', cfg],
               { stdio: 'ignore' });
  const accounts = JSON.parse(fs.readFileSync(
    path.join(dir, 'demo-credentials.json'), 'utf8')).accounts;
  creds = { citizen: accounts.find((a) => a.kind === 'citizen'),
            app: accounts.find((a) => a.kind === 'application') };
  ({ proc: server, url } = await startServer(dir));
  browser = await launchBrowser();
});

after(() => stopAll(browser, server, tmp));

test('the citizen signs a batch and returns to the application', async () => {
  const docs = [
    { name: 'contrato.pdf', title: 'Contrato de alquiler', text: 'contract' },
    { name: 'anexo.pdf', title: 'Anexo I: inventario', text: 'annex' }];
  const tx = await newTransaction(docs);
  const page = await browser.newPage();
  await page.goto(url + tx.path);
  await page.getByLabel('User id').fill(creds.citizen.user_id);
  await page.getByLabel('Password').fill(creds.citizen.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  const items = page.locator('#documents li');
  await items.first().waitFor();
  assert.equal(await items.count(), 2);
  assert.match(await items.nth(0).innerText(), /contrato\.pdf[\s\S]*Contrato de alquiler/);
  assert.match(await items.nth(1).innerText(), /anexo\.pdf[\s\S]*Anexo I/);
  // the demo certificate is not accepted yet: its sheet is shown before any
  // code is asked for, with RFC 4514 names, and must be accepted (R5.4)
  const sheet = await page.locator('#acceptance-sheet').innerText();
  assert.match(sheet, /HOJA DE ACEPTACIÓN DEL CERTIFICADO \/ CERTIFICATE ACCEPTANCE SHEET/);
  assert.match(sheet, /Titular \/ Holder: [A-Za-z]+=[^\n]*,C=ES\n/);
  await page.getByRole('button', { name: 'Send me the code by SMS' }).click();
  await page.locator('#accept-error').filter({ hasText: /accept your certificate/ }).waitFor();
  await page.getByLabel('I have read the acceptance sheet and I accept my certificate').check();
  await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/otp') && r.ok()),
    page.getByRole('button', { name: 'Send me the code by SMS' }).click()]);
  await page.getByLabel('One-time code').waitFor();
  assert.match(await page.locator('#acceptance-sheet').innerText(),
               /CERTIFICATE ACCEPTANCE SHEET/);
  await page.screenshot({ path: path.join(ARTIFACTS, 'sign-review.png'),
                          fullPage: true });
  await page.getByLabel('One-time code').fill(lastOtp(creds.citizen.mobile));
  await Promise.all([
    page.waitForURL(/healthz\?result=ok/),
    page.getByRole('button', { name: 'Sign', exact: true }).click()]);
  await page.screenshot({ path: path.join(ARTIFACTS, 'sign-redirected.png') });
  await page.close();

  const r = await api('GET', `/api/v1/transactions/${tx.id}`);
  assert.equal(r.json.state, 'signed');
  const cert = Buffer.from(r.json.certificate, 'base64');
  r.json.documents.forEach((d, i) => {
    assert.ok(pkcs1Verifies(cert, digest(docs[i].text),
                            Buffer.from(d.signature, 'base64')),
              `signature ${i} verifies with openssl pkeyutl`);
  });
});

test('a wrong code is refused on the page, declining returns to the error URL',
     async () => {
  const tx = await newTransaction([{ name: 'x.pdf', title: 'X', text: 'x' }]);
  const page = await browser.newPage();
  await page.goto(url + tx.path);
  await page.getByLabel('User id').fill(creds.citizen.user_id);
  await page.getByLabel('Password').fill('not the password 1');
  await page.getByRole('button', { name: 'Log in' }).click();
  // the refusal stands next to the field, which is marked invalid
  await page.locator('#password-error').filter({ hasText: /password/ }).waitFor();
  assert.equal(await page.getByLabel('Password').getAttribute('aria-invalid'), 'true');
  await page.getByLabel('Password').fill(creds.citizen.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('button', { name: 'Send me the code by SMS' }).click();
  await page.getByLabel('One-time code').fill('000000');
  assert.match(await page.locator('#otp-help').innerText(), /^[45]:\d\d minutes and 3 attempts left/);
  await page.getByRole('button', { name: 'Sign', exact: true }).click();
  await page.locator('#otp-error').filter({ hasText: /code/ }).waitFor();
  assert.match(await page.locator('#otp-help').innerText(), /and 2 attempts left/);
  assert.equal(await page.getByLabel('One-time code').getAttribute('aria-invalid'), 'true');
  await page.screenshot({ path: path.join(ARTIFACTS, 'sign-wrong-code.png') });
  // "Do not sign" asks first; going back changes nothing
  const before = (await api('GET', `/api/v1/transactions/${tx.id}`)).json.state;
  await page.getByRole('button', { name: 'Do not sign' }).click();
  await page.getByRole('button', { name: 'Go back' }).click();
  assert.equal((await api('GET', `/api/v1/transactions/${tx.id}`)).json.state, before);
  await page.getByRole('button', { name: 'Do not sign' }).click();
  await Promise.all([
    page.waitForURL(/healthz\?result=error/),
    page.getByRole('button', { name: 'Yes, do not sign' }).click()]);
  await page.close();
  const r = await api('GET', `/api/v1/transactions/${tx.id}`);
  assert.equal(r.json.state, 'failed');
  assert.ok(!JSON.stringify(r.json.documents).includes('signature'));
});

// A one-page PDF written by hand and rewritten by qpdf (which adds the
// cross-reference table), as tests/integration/test_pades_sign.py does.
function makePdf(text) {
  const stream = `BT /F1 12 Tf 72 720 Td (${text}) Tj ET`;
  const src = ['%PDF-1.7',
    '1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj',
    '2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj',
    '3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]',
    '  /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >> endobj',
    `4 0 obj << /Length ${stream.length + 1} >> stream`, stream,
    'endstream endobj',
    '5 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj',
    'trailer << /Root 1 0 R /Size 6 >>', '%%EOF', ''
  ].join('\n');
  const inp = path.join(tmp, 'src.pdf');
  const out = path.join(tmp, 'in.pdf');
  fs.writeFileSync(inp, src);
  try { execFileSync('qpdf', [inp, out]); } catch (e) { /* 3: warnings */ }
  return fs.readFileSync(out);
}

test('the citizen reviews a PDF on the page and signs it as PAdES', async () => {
  const pdf = makePdf('Contrato de arras');
  const r = await api('POST', '/api/v1/transactions', {
    owner: creds.citizen.user_id, digest_algorithm: 'SHA-256',
    documents: [{ id: 'arras', name: 'arras.pdf', title: 'Contrato de arras',
                  content: pdf.toString('base64'), format: 'PAdES',
                  conformance_level: 'B-T' }],
    redirect_ok_url: `${url}/healthz?result=ok`,
    redirect_error_url: `${url}/healthz?result=error` });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  const tx = r.json;
  const page = await browser.newPage({ acceptDownloads: true });
  const refused = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/.test(m.text())) refused.push(m.text());
  });
  await page.goto(url + tx.path);
  await page.getByLabel('User id').fill(creds.citizen.user_id);
  await page.getByLabel('Password').fill(creds.citizen.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  const item = page.locator('#documents li').first();
  await item.waitFor();
  const text = await item.innerText();
  assert.match(text, /arras\.pdf[\s\S]*Contrato de arras/);
  assert.match(text, /PDF, 1 page, \d+ (bytes|kB) — signed as PAdES B-T/);
  assert.ok(text.includes(digest(pdf).toString('base64')),
            'the digest shown is the SHA-256 of the PDF as sent');
  // issue 15 item 3: the first PDF is drawn in the page by pdf.js (its
  // worker allowed by the CSP), and the drawing is not blank
  await item.getByText('Page 1 of 1').waitFor();
  const inked = await item.locator('canvas').first().evaluate((c) => {
    const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let dark = 0;
    for (let i = 0; i < px.length; i += 4) if (px[i] < 128) dark++;
    return dark;
  });
  assert.ok(inked > 50, `the preview draws the page's text (${inked} dark pixels)`);
  assert.deepEqual(refused, [], 'nothing refused by the CSP');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download the PDF to read it' }).click()]);
  assert.equal(download.suggestedFilename(), 'arras.pdf');
  assert.ok(fs.readFileSync(await download.path()).equals(pdf),
            'the page hands over the PDF exactly as the application sent it');
  await page.screenshot({ path: path.join(ARTIFACTS, 'sign-pdf-review.png'),
                          fullPage: true });
  // The SMS request is asynchronous: read the outbox only once it answered,
  // or a busy machine hands us the previous test's code.
  await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/otp') && r.ok()),
    page.getByRole('button', { name: 'Send me the code by SMS' }).click()]);
  await page.getByLabel('One-time code').fill(lastOtp(creds.citizen.mobile));
  await Promise.all([
    page.waitForURL(/healthz\?result=ok/),
    page.getByRole('button', { name: 'Sign', exact: true }).click()]);
  await page.close();

  const auth = Buffer.from(`${creds.app.client_id}:${creds.app.client_secret}`)
    .toString('base64');
  const got = await fetch(`${url}/api/v1/transactions/${tx.id}/signed?document=arras`,
                          { headers: { Authorization: 'Basic ' + auth } });
  assert.equal(got.status, 200);
  assert.match(got.headers.get('content-disposition'), /^attachment;/);
  const signed = Buffer.from(await got.arrayBuffer());
  assert.ok(signed.length > pdf.length && signed.subarray(0, pdf.length).equals(pdf),
            'the input PDF is an exact prefix of the signed PDF');
  const out = path.join(tmp, 'signed.pdf');
  fs.writeFileSync(out, signed);
  let said = '';
  try {
    said = execFileSync('pdfsig', ['-nocert', '-no-ocsp', out], { encoding: 'utf8' });
  } catch (e) {
    said = String(e.stdout) + String(e.stderr);
  }
  assert.match(said, /ETSI\.CAdES\.detached[\s\S]*Signature is Valid\./, said);
});

// Issue 15 items 1 and 3: a browser set to Spanish gets the page in
// Spanish (lang="es"), a visible switch to English that is remembered,
// fields refused next to themselves, focus on each new step's heading, and
// no serious axe violation at 1280 and 390 px.
test('the page speaks Spanish first, switches to English, and is accessible',
     async () => {
  const tx = await newTransaction([{ name: 'recibo.pdf', title: 'Recibo', text: 'r' }]);
  const ctx = await browser.newContext({ locale: 'es-ES' });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url + tx.path);
  await page.getByLabel('Identificador de usuario').waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'es');
  assert.deepEqual(await axeViolations(page), [], 'axe on the login step');
  // an empty form is refused next to its field, before any request
  await page.getByRole('button', { name: 'Entrar' }).click();
  await page.locator('#user-id-error').filter({ hasText: /Escriba su identificador/ }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'user-id');
  await page.getByLabel('Identificador de usuario').fill(creds.citizen.user_id);
  await page.getByLabel('Contraseña').fill(creds.citizen.password);
  await page.getByRole('button', { name: 'Entrar' }).click();
  await page.getByRole('heading', { name: '2. Revise lo que firma' }).waitFor();
  await page.waitForFunction(() => document.activeElement.id === 'review-title');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'review-title');
  assert.match(await page.locator('#review-lead').innerText(), /le pide firmar 1 documento/);
  assert.match(await page.locator('#app-domain').innerText(), /127\.0\.0\.1/);
  assert.deepEqual(await axeViolations(page), [], 'axe on the review step');
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    const wide = await page.evaluate(
      () => document.documentElement.scrollWidth > window.innerWidth);
    assert.equal(wide, false, `no horizontal scrolling at ${width} px`);
    await page.screenshot({ path: path.join(ARTIFACTS, `sign-review-es-${width}.png`),
                            fullPage: true });
  }
  // the switch: English at once, remembered for the next page
  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('heading', { name: '2. Review what you sign' }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  const cookies = await ctx.cookies();
  assert.ok(cookies.some((c) => c.name === 'llave_lang' && c.value === 'en'));
  assert.deepEqual(errors, [], 'no script error');
  await ctx.close();
});

// Issue 15 item 3: an unknown or finished transaction says so before any
// login, with the page's status 404 / 410.
test('an unknown or finished transaction says so before any login', async () => {
  const page = await browser.newPage();
  const unknown = await page.goto(`${url}/sign/${'0'.repeat(32)}`);
  assert.equal(unknown.status(), 404);
  await page.getByRole('heading', { name: 'This transaction cannot be signed' }).waitFor();
  assert.match(await page.locator('#closed-text').innerText(), /does not exist/);
  assert.equal(await page.getByLabel('Password').isVisible(), false);

  const tx = await newTransaction([{ name: 'y.pdf', title: 'Y', text: 'y' }]);
  assert.equal((await api('DELETE', `/api/v1/transactions/${tx.id}`)).status, 200);
  const ended = await page.goto(url + tx.path);
  assert.equal(ended.status(), 410);
  await page.getByRole('heading', { name: 'This transaction cannot be signed' }).waitFor();
  assert.equal(await page.getByLabel('Password').isVisible(), false);
  await page.close();
});

// Issue 15 item 7: the whole signing page by keyboard alone — every control
// reached with Tab, typed into, pressed with Enter or Space; no click.
async function tabTo(page, id, max = 40) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate(() => document.activeElement && document.activeElement.id) === id)
      return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`#${id} is not reachable with Tab`);
}

test('the signing page by keyboard alone', async () => {
  const docs = [{ name: 'teclado.pdf', title: 'Firmado con el teclado', text: 'kbd' }];
  const tx = await newTransaction(docs);
  const ctx = await browser.newContext({ locale: 'es-ES' });
  const page = await ctx.newPage();
  await page.goto(url + tx.path);
  await page.locator('#user-id').waitFor();
  await tabTo(page, 'user-id');
  await page.keyboard.type(creds.citizen.user_id);
  await tabTo(page, 'password');
  await page.keyboard.type(creds.citizen.password);
  await page.keyboard.press('Enter');
  await page.locator('#step-review').waitFor();
  await page.waitForFunction(() => document.activeElement.id === 'review-title');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'review-title');
  // the certificate was accepted in the first test: no sheet now
  await tabTo(page, 'otp-button');
  await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/otp') && r.ok()),
    page.keyboard.press('Enter')]);
  await page.locator('#step-confirm').waitFor();
  await tabTo(page, 'otp');
  await page.keyboard.type(lastOtp(creds.citizen.mobile));
  await tabTo(page, 'sign-button');
  await Promise.all([
    page.waitForURL(/healthz\?result=ok/),
    page.keyboard.press('Enter')]);
  await ctx.close();
  const r = await api('GET', `/api/v1/transactions/${tx.id}`);
  assert.equal(r.json.state, 'signed');
});

// web/common/forms.js: a login sent while the page still fetches its
// catalogues (its handlers not attached yet) waits for them.  Before, the
// Enter was lost (the page's CSP, form-action 'none', stops the browser
// sending the form itself): the keyboard test above failed that way under
// load.  Nothing typed ever appears in a URL.
test('a login sent before the page is ready waits for it, never in a URL',
  async () => {
    const tx = await newTransaction([{ name: 'pronto.pdf', title: 'Enviado pronto',
                                       text: 'early' }]);
    const ctx = await browser.newContext({ locale: 'es-ES' });
    const page = await ctx.newPage();
    let openCatalogues;
    const gate = new Promise((resolve) => { openCatalogues = resolve; });
    await page.route('**/web/i18n/*.json', async (route) => {
      await gate;
      await route.continue();
    });
    const sent = [];
    page.on('request', (r) => sent.push(`${r.method()} ${r.url()}`));
    await page.goto(url + tx.path);
    await page.fill('#user-id', creds.citizen.user_id);
    await page.fill('#password', creds.citizen.password);
    await page.press('#password', 'Enter');
    await page.waitForTimeout(500);
    assert.equal(await page.locator('#step-review').isVisible(), false,
                 'nothing happens before the page is ready');
    openCatalogues();
    await page.locator('#step-review').waitFor();
    assert.deepEqual(sent.filter((s) => /password|user_id|user-id/.test(s) ||
                                        s.includes(creds.citizen.password)), []);
    assert.equal(page.url(), url + tx.path);
    await ctx.close();
  });

// Every login form of the citizen's and the operators' pages, in a browser
// without JavaScript: nothing is sent (CSP form-action 'none'), and each
// form says method="post", so that without that policy what was typed
// would still not go into a URL.
test('without JavaScript a login form sends nothing, never a URL', async () => {
  const tx = await newTransaction([{ name: 'sinjs.pdf', title: 'Sin JavaScript',
                                     text: 'nojs' }]);
  const ctx = await browser.newContext({ locale: 'es-ES', javaScriptEnabled: false });
  const page = await ctx.newPage();
  for (const where of ['/portal/', '/console/', tx.path]) {
    const resp = await page.goto(url + where);
    assert.match(resp.headers()['content-security-policy'], /form-action 'none'/);
    const forms = page.locator('form');
    assert.ok(await forms.count() >= 1, `${where}: has forms`);
    for (let i = 0; i < await forms.count(); i++)
      assert.equal(await forms.nth(i).getAttribute('method'), 'post', `${where}: form ${i}`);
  }
  // the signing page shows its login before any script: type and send
  await page.fill('#user-id', creds.citizen.user_id);
  await page.fill('#password', 'typed-secret');
  const sent = [];
  page.on('request', (r) => sent.push(`${r.method()} ${r.url()}`));
  await page.focus('#password');
  await page.keyboard.press('Enter');
  await page.waitForTimeout(500);
  assert.deepEqual(sent, [], 'nothing sent');
  assert.equal(page.url(), url + tx.path);
  await ctx.close();
});
