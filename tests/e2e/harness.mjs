// What every browser test of tests/e2e/ shares: a real llaved on a demo
// directory (127.0.0.1, a free port, stopped by PID) and Debian's chromium
// driven by playwright-core, headless, without network side traffic.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

export const BUILD = process.env.LLAVE_BUILD_DIR || path.resolve('build');
export const ARTIFACTS = path.join(BUILD, 'tests', 'e2e', 'artifacts');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  throw new Error('playwright-core is missing: run scripts/setup (npm ci in ' +
                  'tests/e2e with PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1)');
}

// llaved -d dir on a free port; resolves to { proc, url } once it listens.
export async function startServer(dir) {
  const proc = spawn(path.join(BUILD, 'llaved'), ['-d', dir, '--port', '0'],
                     { stdio: ['ignore', 'pipe', 'ignore'] });
  const lines = readline.createInterface({ input: proc.stdout });
  for await (const line of lines) {
    const m = line.match(/listening on (http:\/\/[0-9.]+:\d+)/);
    if (m) return { proc, url: m[1] };
  }
  throw new Error('llaved did not start');
}

export async function launchBrowser() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu',
           '--disable-background-networking', '--disable-component-update',
           '--disable-sync', '--no-first-run'] });
}

// Closes the browser, stops llaved (SIGTERM, waits) and removes tmp
// (kept with LLAVE_KEEP_TMP=1).
export async function stopAll(browser, server, tmp) {
  if (browser) await browser.close();
  if (server) {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
  if (tmp && !process.env.LLAVE_KEEP_TMP) fs.rmSync(tmp, { recursive: true, force: true });
}

// The serious and critical WCAG 2.1 AA violations axe-core finds on the
// page as it is.  axe is evaluated through Playwright's CDP, past the
// page's CSP (no inline script): the page keeps its own headers.
export async function axeViolations(page) {
  await page.evaluate(fs.readFileSync(AXE, 'utf8'));
  const r = await page.evaluate(() => globalThis.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
  return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(' ')}`);
}
