// Issue 15 item 4: the citizen portal (web/portal/) end to end in a real
// browser against a real llaved.  The demo citizen signs once through the
// signing page's API (a certificate and one history entry), then, in a
// browser set to Spanish: logs in with password + SMS code (read from
// DIR/outbox), sees the data, the certificate and the signature, downloads
// the receipt, revokes the certificate with a code bound to it, accepts a
// new certificate after reading its sheet, switches to English; and logs
// in with the keyboard alone.  axe-core finds no serious or critical
// violation; screenshots at 1280 and 390 px are kept in
// <build>/tests/e2e/artifacts/.
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

// The last SMS code to mobile whose text says what it is for (re).
function lastCode(mobile, re) {
  const box = path.join(dir, 'outbox');
  const codes = fs.readdirSync(box).sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(box, f), 'utf8')))
    .filter((m) => m.to === mobile && re.test(m.text))
    .map((m) => m.text.match(/(?:your code is|su clave es) (\d+)/));
  return codes.at(-1)[1];
}

async function call(method, p, body, headers) {
  const r = await fetch(url + p, {
    method, body: body ? JSON.stringify(body) : undefined,
    headers: { 'Content-Type': 'application/json', ...headers } });
  return { status: r.status, json: await r.json() };
}

// One signed transaction, as the signing page makes it (the certificate
// is issued and accepted on the way).
async function signOnce() {
  const basic = { Authorization: 'Basic ' + Buffer.from(
    `${creds.app.client_id}:${creds.app.client_secret}`).toString('base64') };
  const digest = createHash('sha256').update('portal').digest('base64');
  const tx = await call('POST', '/api/v1/transactions', {
    owner: creds.citizen.user_id, digest_algorithm: 'SHA-256',
    documents: [{ id: 'd0', name: 'solicitud.pdf', title: 'Solicitud', digest }],
    redirect_ok_url: `${url}/healthz`, redirect_error_url: `${url}/healthz` }, basic);
  assert.equal(tx.status, 201, JSON.stringify(tx.json));
  const p = `/api/v1/transactions/${tx.json.id}`;
  const login = await call('POST', `${p}/login`, {
    user_id: creds.citizen.user_id, password: creds.citizen.password });
  const bearer = { Authorization: `Bearer ${login.json.token}` };
  assert.equal((await call('POST', `${p}/otp`, {}, bearer)).status, 200);
  const otp = lastCode(creds.citizen.mobile, /para firmar|to sign/);
  const done = await call('POST', `${p}/confirm`,
                          { password: creds.citizen.password, otp }, bearer);
  assert.equal(done.status, 200, JSON.stringify(done.json));
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'llave-e2e-portal-'));
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
  await signOnce();
});

after(() => stopAll(browser, server, tmp));

async function shoot(page, name) {
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    const wide = await page.evaluate(
      () => document.documentElement.scrollWidth > window.innerWidth);
    assert.equal(wide, false, `no horizontal scrolling at ${width} px (${name})`);
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}-${width}.png`),
                            fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

test('the Spanish journey: login, certificates, receipt, revocation, English',
     async () => {
  const ctx = await browser.newContext({ locale: 'es-ES', acceptDownloads: true });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/.test(m.text())) errors.push(m.text());
  });
  await page.goto(`${url}/portal/`);
  await page.getByRole('heading', { name: 'Entrar en su área personal' }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'es');
  assert.deepEqual(await axeViolations(page), [], 'axe on the login');
  await shoot(page, 'portal-login-es');
  // an empty form is refused next to its fields
  await page.getByRole('button', { name: 'Enviarme el código por SMS' }).click();
  assert.equal(await page.getByLabel('Usuario (número de DNI o NIE)')
    .getAttribute('aria-invalid'), 'true');
  await page.getByLabel('Usuario (número de DNI o NIE)').fill(creds.citizen.user_id);
  await page.locator('#login-password').fill('Mal-clave-2026-x');
  await page.getByRole('button', { name: 'Enviarme el código por SMS' }).click();
  await page.locator('#login-error').filter({ hasText: /no son correctos/ }).waitFor();
  await page.locator('#login-password').fill(creds.citizen.password);
  await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/login/otp') && r.ok()),
    page.getByRole('button', { name: 'Enviarme el código por SMS' }).click()]);
  await page.locator('#login-otp').fill(
    lastCode(creds.citizen.mobile, /para entrar/));
  await page.getByRole('button', { name: 'Entrar', exact: true }).click();
  await page.getByRole('heading', { name: 'Su área personal' }).waitFor();
  await page.waitForFunction(() => document.activeElement.id === 'home-title');
  const cookies = await ctx.cookies();
  const c = cookies.find((k) => k.name === 'llave_portal');
  assert.ok(c && c.httpOnly && c.sameSite === 'Strict', 'an HttpOnly Strict cookie');
  assert.equal(await page.evaluate(() => document.cookie.includes('llave_portal')), false);
  // my data, my certificate, my signature
  const data = await page.locator('#data-list').innerText();
  assert.match(data, /Móvil registrado\s+\+\d+•+\d{3}/);
  assert.match(data, /Caducidad del documento\s+\d{4}-\d\d-\d\d/);
  await page.getByRole('heading', { name: 'Certificado vigente' }).waitFor();
  const row = page.locator('#history-rows tr').first();
  assert.match(await row.innerText(), /solicitud\.pdf[\s\S]*Firmado/);
  assert.deepEqual(await axeViolations(page), [], 'axe on the area');
  await shoot(page, 'portal-home-es');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    row.getByRole('link', { name: 'JSON' }).click()]);
  const receipt = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
  assert.equal(receipt.documents[0].name, 'solicitud.pdf');
  assert.equal(receipt.state, 'signed');
  // revocation: password + a code bound to this certificate
  await page.getByRole('button', { name: 'Revocar este certificado' }).click();
  await page.getByRole('heading', { name: 'Revocar el certificado' }).waitFor();
  await page.locator('#revoke-password').fill(creds.citizen.password);
  await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/revocation/otp') && r.ok()),
    page.getByRole('button', { name: 'Enviarme el código de revocación' }).click()]);
  assert.deepEqual(await axeViolations(page), [], 'axe on the revocation');
  await shoot(page, 'portal-revoke-es');
  await page.locator('#revoke-otp').fill(lastCode(creds.citizen.mobile, /para revocar/));
  await page.getByRole('button', { name: 'Revocar definitivamente' }).click();
  await page.getByRole('heading', { name: 'Certificado revocado' }).waitFor();
  await page.locator('#certs-result').filter({ hasText: /está revocado/ }).waitFor();
  // a certificate issued outside a signature is accepted here (issue 15
  // item 3): the sheet first, then password + its own code; a reload keeps
  // the session (cookie) and the CSRF token comes back with my data
  const login = await call('POST', '/api/v1/auth/login', {
    user_id: creds.citizen.user_id, password: creds.citizen.password });
  const bearer = { Authorization: `Bearer ${login.json.token}` };
  const who = await call('GET', '/api/v1/auth/session', undefined, bearer);
  assert.equal((await call('POST', `/api/v1/citizens/${who.json.id}/certificates`,
                           {}, bearer)).status, 201);
  await page.reload();
  await page.getByRole('heading', { name: 'Su área personal' }).waitFor();
  await page.getByRole('button', { name: 'Leer y aceptar el certificado' }).click();
  await page.getByRole('heading', { name: 'Aceptar el certificado' }).waitFor();
  assert.match(await page.locator('#accept-sheet').innerText(), /HOJA DE ACEPTACIÓN/);
  await page.getByRole('button', { name: 'Enviarme el código de aceptación' }).click();
  await page.locator('#accept-read-error').filter({ hasText: /Marque la casilla/ }).waitFor();
  await page.getByLabel('He leído la hoja de aceptación y acepto mi certificado').check();
  await page.locator('#accept-password').fill(creds.citizen.password);
  await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/acceptance/otp') && r.ok()),
    page.getByRole('button', { name: 'Enviarme el código de aceptación' }).click()]);
  assert.deepEqual(await axeViolations(page), [], 'axe on the acceptance');
  await shoot(page, 'portal-accept-es');
  await page.locator('#accept-otp').fill(lastCode(creds.citizen.mobile, /para aceptar/));
  await page.getByRole('button', { name: 'Aceptar el certificado', exact: true }).click();
  await page.locator('#certs-result').filter({ hasText: /Ha aceptado el certificado/ }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Leer y aceptar el certificado' }).count(), 0);
  // English, at once
  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('heading', { name: 'Your personal area' }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await page.getByRole('heading', { name: 'Revoked certificate' }).waitFor();
  await shoot(page, 'portal-home-en');
  assert.deepEqual(await axeViolations(page), [], 'axe in English');
  // logout ends the session
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('heading', { name: 'Open your personal area' }).waitFor();
  const me = await page.evaluate(async () => (await fetch('/api/v1/portal/me')).status);
  assert.equal(me, 401);
  assert.deepEqual(errors, [], 'no script error, nothing refused by the CSP');
  await ctx.close();
});

test('the login works with the keyboard alone', async () => {
  const ctx = await browser.newContext({ locale: 'en-GB' });
  const page = await ctx.newPage();
  await page.goto(`${url}/portal/`);
  await page.getByRole('heading', { name: 'Open your personal area' }).waitFor();
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement.id) === 'login-user') break;
  }
  assert.equal(await page.evaluate(() => document.activeElement.id), 'login-user');
  await page.keyboard.type(creds.citizen.user_id);
  await page.keyboard.press('Tab');
  await page.keyboard.type(creds.citizen.password);
  await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/login/otp') && r.ok()),
    page.keyboard.press('Enter')]);
  // the page moves the focus once it has handled that response, which may
  // be after waitForResponse resolves
  await page.waitForFunction(() => document.activeElement.id === 'login-otp');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'login-otp');
  await page.keyboard.type(lastCode(creds.citizen.mobile, /to open|para entrar/));
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Your personal area' }).waitFor();
  await page.waitForFunction(() => document.activeElement.id === 'home-title');
  await ctx.close();
});
