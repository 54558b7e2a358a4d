// Issue 14 item 3: the CSC oauth2/authorize page (web/oauth/) end to end in
// a real browser (Debian chromium driven by playwright-core) against a real
// llaved: a registered OAuth client sends the citizen to
// /csc/v2/oauth2/authorize with PKCE (S256) for scope credential, the
// citizen logs in, reviews the hashes, receives the OTP (read from
// DIR/outbox), approves and lands on the client's redirect URI with code
// and state; the test then exchanges the code for the token at
// /csc/v2/oauth2/token.  Refusing lands there with error=access_denied.
// Screenshots are kept in <build>/tests/e2e/artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ARTIFACTS, BUILD, axeViolations, launchBrowser, startServer, stopAll }
  from './harness.mjs';

const SHA256 = '2.16.840.1.101.3.4.2.1';


let tmp, dir, server, url, browser, citizen, client, callback;

function llave(...args) {
  return execFileSync(path.join(BUILD, 'llave'), ['-d', dir, ...args],
                      { encoding: 'utf8' });
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

const b64url = (buf) => buf.toString('base64url');
const sha256 = (x) => createHash('sha256').update(x).digest();

function pkce() {
  const verifier = b64url(randomBytes(32));
  return { verifier, challenge: b64url(sha256(verifier)) };
}

function authorizeUrl(challenge, state, hashes) {
  const q = new URLSearchParams({
    response_type: 'code', client_id: client.client_id,
    redirect_uri: callback, scope: 'credential', state,
    code_challenge: challenge, code_challenge_method: 'S256',
    credentialID: citizen.signing_certificate,
    numSignatures: String(hashes.length),
    hashes: hashes.map(b64url).join(','), hashAlgorithmOID: SHA256,
    description: 'Facturas de enero' });
  return `${url}/csc/v2/oauth2/authorize?${q}`;
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'llave-e2e-oauth-'));
  dir = path.join(tmp, 'demo');
  const cfg = path.join(tmp, 'config.json');
  fs.writeFileSync(cfg, JSON.stringify({ argon2_memory_mib: 1, argon2_time: 1 }));
  execFileSync(path.join(BUILD, 'llave'), ['init', dir, '--demo', '--config', cfg],
               { stdio: 'ignore' });
  citizen = JSON.parse(fs.readFileSync(path.join(dir, 'demo-credentials.json'),
                                       'utf8')).accounts
    .find((a) => a.kind === 'citizen');
  ({ proc: server, url } = await startServer(dir));
  // the client's redirect URI: a page of this llaved, so that the browser
  // lands somewhere real (the query is what the test reads)
  callback = `${url}/healthz`;
  client = JSON.parse(llave('app', 'add', 'Portal e2e', '--redirect-uri',
                            callback, '--json'));
  browser = await launchBrowser();
});

after(() => stopAll(browser, server, tmp));

async function login(page) {
  await page.getByLabel('User id').fill(citizen.user_id);
  await page.getByLabel('Password').fill(citizen.password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

test('the citizen authorizes signatures; the code buys a token', async () => {
  const hashes = [sha256('factura 1'), sha256('factura 2')];
  const { verifier, challenge } = pkce();
  const page = await browser.newPage();
  await page.goto(authorizeUrl(challenge, 'e2e-state-1', hashes));
  assert.match(page.url(), /\/oauth\/[0-9a-f]{32}$/);
  await page.locator('#intro-app').filter({ hasText: 'Portal e2e' }).waitFor();
  await login(page);
  const items = page.locator('#documents li');
  await items.first().waitFor();
  assert.equal(await items.count(), 2);
  assert.match(await items.nth(0).innerText(), new RegExp(hashes[0].toString('hex')));
  assert.match(await page.locator('#signatures').innerText(), /2 signatures/);
  assert.match(await page.locator('#description').innerText(), /Facturas de enero/);
  await page.getByRole('button', { name: 'Send me the code by SMS' }).click();
  await page.getByLabel('One-time code').waitFor();
  await page.screenshot({ path: path.join(ARTIFACTS, 'oauth-review.png'),
                          fullPage: true });
  await page.getByLabel('One-time code').fill(lastOtp(citizen.mobile));
  await Promise.all([
    page.waitForURL(/\/healthz\?code=/),
    page.getByRole('button', { name: 'Authorize', exact: true }).click()]);
  const back = new URL(page.url());
  await page.close();
  assert.equal(back.searchParams.get('state'), 'e2e-state-1');
  const code = back.searchParams.get('code');
  assert.match(code, /^[0-9a-f]{64}$/);

  const r = await fetch(`${url}/csc/v2/oauth2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code', code, redirect_uri: callback,
      code_verifier: verifier, client_id: client.client_id,
      client_secret: client.client_secret }) });
  const t = await r.json();
  assert.equal(r.status, 200, JSON.stringify(t));
  assert.equal(t.token_type, 'Bearer');
  assert.equal(t.scope, 'credential');
  assert.equal(t.credentialID, citizen.signing_certificate);
  assert.match(t.access_token, /^[0-9a-f]{64}$/);
  assert.ok(t.expires_in > 0 && t.expires_in <= 300);
});

test('refusing returns to the client with access_denied', async () => {
  const { challenge } = pkce();
  const page = await browser.newPage();
  await page.goto(authorizeUrl(challenge, 'e2e-state-2', [sha256('x')]));
  await login(page);
  await page.locator('#documents li').first().waitFor();
  // declining asks first
  await page.getByRole('button', { name: 'Do not authorize' }).click();
  await Promise.all([
    page.waitForURL(/\/healthz\?error=access_denied/),
    page.getByRole('button', { name: 'Yes, do not authorize' }).click()]);
  const back = new URL(page.url());
  await page.screenshot({ path: path.join(ARTIFACTS, 'oauth-denied.png') });
  await page.close();
  assert.equal(back.searchParams.get('state'), 'e2e-state-2');
  assert.equal(back.searchParams.get('code'), null);
});

// Issue 15 item 1: the page in Spanish for a Spanish browser, with no
// serious axe violation before and after login.
test('the OAuth page speaks Spanish first and is accessible', async () => {
  const { challenge } = pkce();
  const ctx = await browser.newContext({ locale: 'es-ES' });
  const page = await ctx.newPage();
  await page.goto(authorizeUrl(challenge, 'e2e-state-3', [sha256('y')]));
  await page.locator('#intro-what').filter({ hasText: 'le pide autorizar firmas' }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'es');
  assert.deepEqual(await axeViolations(page), [], 'axe on the login step');
  await page.getByLabel('Identificador de usuario').fill(citizen.user_id);
  await page.getByLabel('Contraseña').fill(citizen.password);
  await page.getByRole('button', { name: 'Entrar' }).click();
  await page.getByRole('heading', { name: '2. Revise lo que autoriza' }).waitFor();
  assert.match(await page.locator('#signatures').innerText(), /1 firma/);
  assert.match(await page.locator('#app-domain').innerText(), /le devolverá a 127\.0\.0\.1:\d+/);
  assert.deepEqual(await axeViolations(page), [], 'axe on the review step');
  await page.screenshot({ path: path.join(ARTIFACTS, 'oauth-review-es.png'), fullPage: true });
  await ctx.close();
});
