// Issue 15 items 5 and 7: the operators' console (/console/) in a real
// browser (Debian chromium driven by playwright-core) against a real llaved
// of a demo install.  Each role's main task, done through the page as an
// operator would (login + password + TOTP computed here, RFC 6238):
//   RA officer: face-to-face registration with the keyboard only, the DNI
//     check letter judged as typed; a new activation code (seen in the
//     outbox); lock and unlock; another role's page refused; logout;
//   RA administrator: the approvals queue; a request's creator is offered
//     no decision and the API refuses it (403, two-person rule); a second
//     administrator rejects one (reason required) and approves another;
//   revocation officer: revoke with a reason after a confirmation step;
//   auditor: the audit trail, filtered down to the refused self-approval;
//   security officer: disable and enable an operator, and the two-person
//     rule for another security officer (202, still enabled).
// Outcomes are checked through the API with another operator's token, not
// only on the page.  Every screen: axe-core finds no serious or critical
// WCAG 2.1 AA violation; screenshots at 1280 px and 390 px go to
// <build>/tests/e2e/artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ARTIFACTS, BUILD, axeViolations, launchBrowser, startServer, stopAll }
  from './harness.mjs';



let tmp, dir, server, url, browser;
const ops = {}; // login -> {login, password, totp_secret}
let citizen; // the demo citizen of demo-credentials.json
let both; // API token of an operator holding ra_officer and ra_admin
const requestIds = {};

function llave(...args) {
  return execFileSync(path.join(BUILD, 'llave'), ['-d', dir, ...args], { encoding: 'utf8' });
}

// ---- TOTP (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits), computed here --------

function base32(s) {
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of s.replace(/=+$/, '')) bits += A.indexOf(c).toString(2).padStart(5, '0');
  const out = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) out.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(out);
}

function totpAt(secret, step) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32(secret)).update(msg).digest();
  const off = mac[19] & 15;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0');
}

// A code the server takes: each step once per operator (RFC 6238 §5.2),
// one step of drift allowed, so a second login may have to wait.
const lastStep = {};
async function totp(acct) {
  const now = () => Math.floor(Date.now() / 30000);
  let step = Math.max(now(), (lastStep[acct.login] ?? 0) + 1);
  while (step > now() + 1) await new Promise((r) => setTimeout(r, 1000));
  lastStep[acct.login] = step;
  return totpAt(acct.totp_secret, step);
}

// ---- the API, for setting up and for checking outcomes -------------------------

async function call(method, p, body, token) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(url + p, { method, headers,
                                   body: body ? JSON.stringify(body) : undefined });
  return { status: r.status, json: await r.json() };
}

async function apiLogin(acct) {
  const r = await call('POST', '/api/v1/operators/login',
                       { login: acct.login, password: acct.password, totp: await totp(acct) });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json.token;
}

function cif(letter, seven) {
  let s = 0;
  [...seven].forEach((ch, i) => {
    let d = Number(ch);
    if (i % 2 === 0) { d *= 2; d = Math.floor(d / 10) + (d % 10); }
    s += d;
  });
  return `${letter}${seven}${(10 - (s % 10)) % 10}`;
}

function outbox(to) {
  const box = path.join(dir, 'outbox');
  return fs.readdirSync(box).sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(box, f), 'utf8')))
    .filter((m) => m.to === to);
}

// ---- the browser -----------------------------------------------------------------

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'llave-e2e-console-'));
  dir = path.join(tmp, 'demo');
  const cfg = path.join(tmp, 'config.json');
  fs.writeFileSync(cfg, JSON.stringify({ argon2_memory_mib: 1, argon2_time: 1 }));
  execFileSync(path.join(BUILD, 'llave'), ['init', dir, '--demo', '--config', cfg],
               { stdio: 'ignore' });
  const accounts = JSON.parse(fs.readFileSync(path.join(dir, 'demo-credentials.json'),
                                              'utf8')).accounts;
  for (const a of accounts.filter((x) => x.kind === 'operator')) ops[a.login] = a;
  citizen = accounts.find((a) => a.kind === 'citizen');
  // one operator holding both RA roles (R1.5 must still stop them), and a
  // second security officer (the two-person rule needs one to act on)
  for (const [login, roles] of [['console-both', ['ra_officer', 'ra_admin']],
                                ['console-so2', ['security_officer']]]) {
    const out = JSON.parse(llave('operator', 'add', login, '--json',
                                 ...roles.flatMap((r) => ['--role', r])));
    ops[login] = { ...out, login };
  }
  ({ proc: server, url } = await startServer(dir));
  browser = await launchBrowser();
});

after(() => stopAll(browser, server, tmp));

async function newPage(locale = 'es-ES') {
  const ctx = await browser.newContext({ locale, viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // a refused call (401, 403) is logged by the browser itself: not the page's
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  page.jsErrors = errors;
  return page;
}


// The screen as it is: no serious axe violation, no horizontal scrolling,
// and its picture at both widths.
async function screen(page, name) {
  assert.deepEqual(await axeViolations(page), [], `axe on ${name}`);
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    const wide = await page.evaluate(
      () => document.documentElement.scrollWidth > window.innerWidth);
    assert.equal(wide, false, `${name}: no horizontal scrolling at ${width} px`);
    await page.screenshot({ path: path.join(ARTIFACTS, `console-${name}-${width}.png`),
                            fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  assert.deepEqual(page.jsErrors, [], `no script error on ${name}`);
}

const focused = (page) => page.evaluate(() => document.activeElement?.id || '');
const heading = (page) => page.evaluate(() => document.activeElement?.tagName === 'H1'
  ? document.activeElement.textContent : `(focus on ${document.activeElement?.tagName})`);

// Tab until the element with id has the focus: it is reachable by keyboard.
async function tabTo(page, id) {
  for (let i = 0; i < 40; i++) {
    if (await focused(page) === id) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`#${id} is not reachable with Tab`);
}

async function consoleLogin(page, login) {
  await page.goto(`${url}/console/`);
  await page.getByLabel('Usuario').fill(login);
  await page.getByLabel('Contraseña').fill(ops[login].password);
  await page.getByLabel('Código TOTP').fill(await totp(ops[login]));
  await page.getByRole('button', { name: 'Entrar' }).press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Sus tareas' }).waitFor();
  assert.equal(await heading(page), 'Sus tareas', 'focus on the new screen\'s heading');
}

async function go(page, linkName, h1) {
  await page.getByRole('navigation').getByRole('link', { name: linkName }).press('Enter');
  await page.getByRole('heading', { level: 1, name: h1, exact: true }).waitFor();
  assert.equal(await heading(page), h1);
}

// ---- the tests ---------------------------------------------------------------------

test('login screen: Spanish first, the English switch, errors at their field', async () => {
  const page = await newPage('es-ES');
  const resp = await page.goto(`${url}/console/`);
  const csp = resp.headers()['content-security-policy'];
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  await page.getByRole('heading', { level: 1, name: 'Acceso de operadores' }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'es');
  await page.getByRole('button', { name: 'Entrar' }).press('Enter');
  assert.equal(await page.getAttribute('#login-login', 'aria-invalid'), 'true');
  assert.equal(await page.textContent('#login-login-error'), 'Este campo es obligatorio.');
  assert.equal(await focused(page), 'login-login', 'focus on the first wrong field');
  await screen(page, 'login-es');
  // a wrong code: one message that does not say which factor failed
  await page.getByLabel('Usuario').fill('demo-auditor');
  await page.getByLabel('Contraseña').fill('not the password');
  await page.getByLabel('Código TOTP').fill('000000');
  await page.getByRole('button', { name: 'Entrar' }).press('Enter');
  await page.getByText(/No se ha podido iniciar la sesión/).waitFor();
  await page.getByRole('button', { name: 'English' }).press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Operator login' }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await screen(page, 'login-en');
  await page.context().close();
  const en = await newPage('en-GB');
  await en.goto(`${url}/console/`);
  await en.getByRole('heading', { level: 1, name: 'Operator login' }).waitFor();
  assert.equal(await en.getAttribute('html', 'lang'), 'en');
  await en.context().close();
});

test('RA officer: registration by keyboard, activation code, lock and unlock', async () => {
  const page = await newPage();
  const audit = [];
  page.on('request', (r) => { if (r.url().includes('/api/v1/audit')) audit.push(r.url()); });
  await consoleLogin(page, 'demo-ra-officer');
  const nav = page.getByRole('navigation');
  assert.equal(await nav.getByRole('link', { name: 'Auditoría' }).isVisible(), false,
               'no link to another role\'s task');
  await screen(page, 'home-ra-officer');
  await go(page, 'Registro presencial', 'Registro presencial de un ciudadano');

  // the keyboard alone: the check letter judged as typed
  await tabTo(page, 'reg-doc-number');
  await page.keyboard.type('12345678A'); // 12345678 mod 23 = 14: Z
  assert.equal(await page.getAttribute('#reg-doc-number', 'aria-invalid'), 'true');
  assert.equal(await page.textContent('#reg-doc-number-error'),
               'La letra de control no corresponde al número: revise el documento.');
  const described = await page.getAttribute('#reg-doc-number', 'aria-describedby');
  assert.ok(described.split(' ').includes('reg-doc-number-error'));
  await screen(page, 'register-error');
  await page.keyboard.press('Backspace');
  assert.equal(await page.getAttribute('#reg-doc-number', 'aria-invalid'), null,
               'no verdict while the number is unfinished');
  await page.keyboard.type('Z');
  assert.equal(await page.getAttribute('#reg-doc-number', 'aria-invalid'), null);
  assert.equal(await page.textContent('#reg-doc-number-ok'), 'Letra de control correcta.');
  // a NIE: X1234567 -> 01234567 mod 23 = 19: L
  await tabTo(page, 'reg-given');
  await tabTo(page, 'reg-doc-type'); // wraps round: still the keyboard
  await page.keyboard.press('ArrowDown'); // NIE
  assert.equal(await page.inputValue('#reg-doc-type'), 'NIE');
  assert.equal(await page.getAttribute('#reg-doc-number', 'aria-invalid'), 'true',
               'a DNI is not a NIE');
  await page.keyboard.press('ArrowUp'); // back to DNI
  assert.equal(await page.getAttribute('#reg-doc-number', 'aria-invalid'), null);

  // submitting with fields missing: each error at its field, focus on the first
  await tabTo(page, 'reg-evidence');
  await page.keyboard.type('F-2026-0042');
  await page.keyboard.press('Enter');
  assert.equal(await focused(page), 'reg-doc-expiry');
  assert.equal(await page.getAttribute('#reg-given', 'aria-invalid'), 'true');
  assert.equal(await page.textContent('#reg-given-error'), 'Este campo es obligatorio.');
  await page.keyboard.type('20/05/2031');
  await tabTo(page, 'reg-given');
  await page.keyboard.type('Lucía');
  await tabTo(page, 'reg-surname');
  await page.keyboard.type('Martín Pérez');
  await tabTo(page, 'reg-birth');
  await page.keyboard.type('14/3/1985');
  await tabTo(page, 'reg-mobile');
  await page.keyboard.type('600111777');
  await tabTo(page, 'reg-email');
  await page.keyboard.type('lucia@example.es');
  await page.keyboard.press('Enter');
  assert.equal(await focused(page), 'reg-mobile', 'the mobile needs its prefix');
  assert.equal(await page.textContent('#reg-mobile-error'),
               'El móvil empieza por + y tiene entre 8 y 15 cifras.');
  await page.keyboard.press('Home');
  await page.keyboard.type('+34');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Ciudadano', exact: true }).waitFor();
  assert.equal(await page.isVisible('#register-error'), false);
  assert.equal(await heading(page), 'Ciudadano');
  await page.getByText('Ciudadano registrado con el usuario 12345678Z').waitFor();
  await page.getByRole('heading', { level: 2, name: 'Lucía Martín Pérez' }).waitFor();
  assert.equal(outbox('+34600111777').length, 1, 'the activation SMS went out');
  assert.match(await page.locator('#citizen-data').textContent(), /DNI 12345678Z.*2031-05-20/,
               'the record as the API now reads it');
  await screen(page, 'citizen');

  // a new activation code
  await page.getByRole('button', { name: 'Enviar nuevo código de activación' }).press('Enter');
  await page.getByText('Código de activación enviado por SMS a 12345678Z.').waitFor();
  assert.equal(outbox('+34600111777').length, 2, 'a second activation SMS');
  // lock (with a confirmation) and unlock
  await page.getByRole('button', { name: 'Bloquear la cuenta', exact: true }).press('Enter');
  assert.equal(await focused(page), 'citizen-lock-no', 'the safe answer has the focus');
  await page.getByRole('button', { name: 'Sí, bloquear' }).press('Enter');
  await page.getByText('Cuenta de 12345678Z bloqueada.').waitFor();
  const locked = () => page.locator('#citizen-data dt:has-text("Cuenta bloqueada") + dd')
    .textContent();
  assert.equal(await locked(), 'Sí');
  await page.getByRole('button', { name: 'Desbloquear la cuenta' }).press('Enter');
  await page.getByText('Cuenta de 12345678Z desbloqueada.').waitFor();
  assert.equal(await locked(), 'No');
  const citizenId = page.url().split('#citizen/')[1];
  assert.match(citizenId, /^[0-9a-f]{32}$/);

  // another role's page: refused here, and never asked of the API
  await page.evaluate(() => { location.hash = '#audit'; });
  await page.getByRole('heading', { level: 1,
                                    name: 'Página no disponible para sus funciones' }).waitFor();
  assert.deepEqual(audit, []);
  await screen(page, 'denied');

  // logout forgets the token: the next screen asks for a login
  await page.getByRole('button', { name: 'Cerrar sesión' }).press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Acceso de operadores' }).waitFor();
  await page.evaluate(() => { location.hash = '#register'; });
  await page.getByRole('heading', { level: 1, name: 'Acceso de operadores' }).waitFor();
  const stored = await page.evaluate(() => JSON.stringify(localStorage) +
                                     JSON.stringify(sessionStorage) + document.cookie);
  assert.doesNotMatch(stored, /[0-9a-f]{64}/, 'no token kept by the browser');
  await page.context().close();
});

test('RA administrator: the creator is offered no decision, the API refuses it', async () => {
  both = await apiLogin(ops['console-both']);
  const org = await call('POST', '/api/v1/ra/organizations', {
    legal_name: 'Consola Pruebas SL', nif: cif('B', '7654321'), locality: 'Madrid',
    contact_email: 'certs@consola.example', contact_mobile: '+34600222777' }, both);
  assert.equal(org.status, 201, JSON.stringify(org.json));
  for (const [k, cn] of [['a', 'Sello de facturas'], ['b', 'Sello de registro']]) {
    const r = await call('POST', '/api/v1/ra/requests',
                         { org_id: org.json.id, profile: 'eseal-cloud', common_name: cn }, both);
    assert.equal(r.status, 201, JSON.stringify(r.json));
    requestIds[k] = r.json.id;
  }
  const self = await call('POST', `/api/v1/ra/requests/${requestIds.a}/approve`, {}, both);
  assert.equal(self.status, 403);
  assert.match(self.json.message, /two-person rule/);
  const audit = await call('GET', '/api/v1/audit', undefined, both);
  assert.equal(audit.status, 403, 'the audit trail is not an RA task');

  const page = await newPage();
  await consoleLogin(page, 'console-both');
  await go(page, 'Aprobaciones', 'Solicitudes de certificado por aprobar');
  const cards = page.locator('#requests-list > li');
  await cards.first().waitFor();
  assert.equal(await cards.count(), 2);
  assert.equal(await page.getByRole('button', { name: 'Aprobar y emitir' }).count(), 0,
               'no approval offered to the creator');
  assert.equal(await page.getByText('Usted preparó esta solicitud').count(), 2);
  await screen(page, 'requests-own');
  await page.context().close();
});

test('RA administrator: a second person rejects with a reason and approves', async () => {
  const page = await newPage();
  await consoleLogin(page, 'demo-ra-admin');
  await go(page, 'Aprobaciones', 'Solicitudes de certificado por aprobar');
  const card = (cn) => page.locator('#requests-list > li', {
    has: page.getByRole('heading', { level: 2, name: cn }) });
  await card('Sello de facturas').waitFor();
  await screen(page, 'requests');
  await card('Sello de facturas').getByRole('button', { name: 'Rechazar' }).press('Enter');
  const reason = card('Sello de facturas').getByLabel('Motivo del rechazo');
  assert.equal(await reason.getAttribute('aria-invalid'), 'true', 'a rejection needs a reason');
  assert.equal(await focused(page), `reason-${requestIds.a}`);
  await page.keyboard.type('El sello ya existe en papel');
  await card('Sello de facturas').getByRole('button', { name: 'Rechazar' }).press('Enter');
  await page.getByText('Solicitud «Sello de facturas» rechazada.').waitFor();
  await card('Sello de registro').getByRole('button', { name: 'Aprobar y emitir' })
    .press('Enter');
  await page.getByText(/Solicitud «Sello de registro» aprobada: certificado emitido/)
    .waitFor({ timeout: 60000 });
  await page.getByText('No hay solicitudes en este estado.').waitFor();
  // what the API now says, read with another operator's token
  const a = await call('GET', `/api/v1/ra/requests/${requestIds.a}`, undefined, both);
  const b = await call('GET', `/api/v1/ra/requests/${requestIds.b}`, undefined, both);
  assert.equal(a.json.status, 'rejected');
  assert.equal(a.json.reason, 'El sello ya existe en papel');
  assert.equal(b.json.status, 'approved');
  assert.equal(b.json.decided_by, 'operator:demo-ra-admin');
  assert.ok(await page.getByText(b.json.cert_serial).count() >= 1, 'the serial is shown');
  await page.context().close();
});

test('revocation officer: revoke with a reason after confirming', async () => {
  const page = await newPage();
  await consoleLogin(page, 'demo-revocation-officer');
  await go(page, 'Revocación', 'Revocar un certificado');
  await page.getByRole('button', { name: 'Revisar la revocación' }).press('Enter');
  assert.equal(await page.getAttribute('#revoke-reason', 'aria-invalid'), 'true');
  assert.equal(await focused(page), 'revoke-serial');
  await screen(page, 'revoke');
  const serial = citizen.signing_certificate;
  await page.getByLabel('Número de serie').fill(serial);
  await page.getByLabel('Motivo', { exact: true }).selectOption('keyCompromise');
  await page.getByLabel('Comentario').fill('Móvil robado, denuncia 2026/77');
  await page.getByRole('button', { name: 'Revisar la revocación' }).press('Enter');
  assert.equal(await focused(page), 'revoke-confirm-title');
  await page.getByText(`Va a revocar el certificado ${serial}`).waitFor();
  await screen(page, 'revoke-confirm');
  await page.getByRole('button', { name: 'Revocar el certificado' }).press('Enter');
  await page.getByText(`Certificado ${serial} revocado.`).waitFor();
  const c = await call('GET', `/api/v1/ra/citizens/${citizen.citizen_id}`, undefined, both);
  const cert = c.json.certificates.find((x) => x.serial.toUpperCase() === serial.toUpperCase());
  assert.equal(cert.status, 'revoked');
  assert.equal(cert.revocation_reason, 'keyCompromise');
  await page.context().close();
});

test('auditor: the audit trail, filtered to the refused self-approval', async () => {
  const page = await newPage();
  await consoleLogin(page, 'demo-auditor');
  await go(page, 'Auditoría', 'Registro de auditoría');
  await page.locator('#audit-rows tr').first().waitFor();
  await page.getByLabel('Apuntes por página').selectOption('1000');
  await page.getByRole('button', { name: 'Cargar' }).press('Enter');
  await page.getByText(/^Cadena coherente/).waitFor();
  await page.getByLabel('Evento contiene').fill('ra.request.approve');
  await page.getByLabel('Resultado').selectOption('failure');
  const rows = page.locator('#audit-rows tr');
  assert.equal(await rows.count(), 1, 'the one refused self-approval');
  assert.match(await rows.first().textContent(), /operator:console-both/);
  assert.match(await rows.first().textContent(), new RegExp(requestIds.a));
  await screen(page, 'audit');
  await page.context().close();
});

test('security officer: operators, and the two-person rule for an administrator', async () => {
  const page = await newPage();
  await consoleLogin(page, 'demo-security-officer');
  await go(page, 'Operadores', 'Cuentas de operador');
  const row = (login) => page.locator('#operators-rows tr', {
    has: page.getByRole('rowheader', { name: login, exact: true }) });
  await row('demo-validation-officer').waitFor();
  await screen(page, 'operators');
  await page.getByRole('button', { name: 'Deshabilitar demo-validation-officer' }).press('Enter');
  await page.getByText('Cuenta demo-validation-officer deshabilitada.').waitFor();
  assert.match(await row('demo-validation-officer').textContent(), /Deshabilitada/);
  await page.getByRole('button', { name: 'Habilitar demo-validation-officer' }).press('Enter');
  await page.getByText('Cuenta demo-validation-officer habilitada.').waitFor();
  // another security officer: the first request only records it (202)
  await page.getByRole('button', { name: 'Deshabilitar console-so2' }).press('Enter');
  await page.getByText(/Petición registrada: console-so2 sigue habilitado/).waitFor();
  assert.match(await row('console-so2').textContent(), /Habilitada/);
  assert.match(llave('operator', 'list'), /^console-so2\s+enabled /m,
               'still enabled, as the CLI reads the store');
  await page.context().close();
});
