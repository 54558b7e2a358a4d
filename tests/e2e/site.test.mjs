// Issue 15 items 2 and 7: the landing page (/) and the repository index in a
// real browser (Debian chromium driven by playwright-core) against a real
// llaved: axe-core finds no serious or critical violation of WCAG 2.1 AA in
// Spanish or English; a keyboard alone reaches the skip link first and the
// content next; the visible switch changes the language and the choice
// follows the reader to the next page; a browser set to es-ES gets Spanish,
// one set to en-GB English.  Screenshots at 1280 px and 390 px are kept in
// <build>/tests/e2e/artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ARTIFACTS, BUILD, axeViolations, launchBrowser, startServer, stopAll }
  from './harness.mjs';



let tmp, dir, server, url, browser;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'llave-e2e-site-'));
  dir = path.join(tmp, 'demo');
  const cfg = path.join(tmp, 'config.json');
  fs.writeFileSync(cfg, JSON.stringify({ argon2_memory_mib: 1, argon2_time: 1 }));
  execFileSync(path.join(BUILD, 'llave'), ['init', dir, '--demo', '--config', cfg],
               { stdio: 'ignore' });
  ({ proc: server, url } = await startServer(dir));
  browser = await launchBrowser();
});

after(() => stopAll(browser, server, tmp));


for (const [locale, lang] of [['es-ES', 'es'], ['en-GB', 'en']]) {
  for (const [name, p] of [['home', '/'], ['repository', '/repository/']]) {
    test(`${p} in ${locale}: lang=${lang}, no serious axe violation`, async () => {
      for (const width of [1280, 390]) {
        const ctx = await browser.newContext({
          locale, bypassCSP: true, viewport: { width, height: 900 } });
        const page = await ctx.newPage();
        const resp = await page.goto(url + p);
        assert.equal(resp.status(), 200);
        assert.equal(await page.getAttribute('html', 'lang'), lang);
        assert.deepEqual(await axeViolations(page), []);
        const wide = await page.evaluate(
          () => document.documentElement.scrollWidth > window.innerWidth);
        assert.equal(wide, false, `no horizontal scrolling at ${width} px`);
        await page.screenshot({ path: path.join(ARTIFACTS,
          `site-${name}-${lang}-${width}.png`), fullPage: true });
        await ctx.close();
      }
    });
  }
}

test('keyboard only: the skip link first, then the content', async () => {
  const ctx = await browser.newContext({ locale: 'es-ES' });
  const page = await ctx.newPage();
  await page.goto(url + '/');
  await page.keyboard.press('Tab');
  const first = await page.evaluate(() => ({
    text: document.activeElement.textContent,
    href: document.activeElement.getAttribute('href') }));
  assert.deepEqual(first, { text: 'Saltar al contenido', href: '#main' });
  const visible = await page.locator('a.skip').boundingBox();
  assert.ok(visible && visible.x >= 0, 'the focused skip link is on screen');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'main');
  await ctx.close();
});

test('the language switch changes the page and follows the reader', async () => {
  const ctx = await browser.newContext({ locale: 'es-ES' });
  const page = await ctx.newPage();
  await page.goto(url + '/');
  assert.equal(await page.locator('h1').textContent(),
               'Firma electrónica en la nube');
  await page.getByRole('link', { name: 'English' }).click();
  await page.waitForURL(/lang=en/);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await page.getByRole('link', { name: 'Repository', exact: true }).click();
  await page.waitForURL(/\/repository\/$/);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await page.locator('h1').textContent(), 'Repository');
  await page.getByRole('link', { name: 'Español' }).click();
  await page.waitForURL(/lang=es/);
  assert.equal(await page.locator('h1').textContent(), 'Repositorio');
  await ctx.close();
});
