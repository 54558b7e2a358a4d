// The console's texts (issue 15 item 1): every word comes from the
// catalogue web/i18n/<lang>.json that the server also uses, fetched from
// /web/i18n/.  The language: ?lang= of the page's URL, else the llave_lang
// cookie that every page's switch sets, else the first of the browser's
// languages (navigator.languages, what Accept-Language carries) we have a
// catalogue for, else Spanish (the same order as src/http/http_i18n.c).
// The page is static, so the script decides and sets <html lang>.
export const LANGS = ['es', 'en'];
const DEFAULT = 'es';
const COOKIE = 'llave_lang';

let lang = DEFAULT;
let texts = {};
let spanish = {};

function known(code) {
  const c = (code || '').toLowerCase().split('-')[0];
  return LANGS.includes(c) ? c : null;
}

function cookieLang() {
  for (const part of document.cookie.split(';')) {
    const [k, v] = part.trim().split('=');
    if (k === COOKIE) return known(v);
  }
  return null;
}

export function pickLang() {
  const q = known(new URLSearchParams(location.search).get('lang'));
  if (q) return q;
  const c = cookieLang();
  if (c) return c;
  for (const l of navigator.languages || []) {
    const k = known(l);
    if (k) return k;
  }
  return DEFAULT;
}

const catalogues = {};

async function fetchCatalogue(code) {
  const r = await fetch(`/web/i18n/${code}.json`, { cache: 'no-store' });
  if (!r.ok) throw new Error(`catalogue ${code}: HTTP ${r.status}`);
  return r.json();
}

// Every catalogue, once: the switch names each language in itself.
export async function loadCatalogues() {
  await Promise.all(LANGS.map(async (c) => { catalogues[c] = await fetchCatalogue(c); }));
  spanish = catalogues[DEFAULT];
}

export function langName(code) {
  return (catalogues[code] || {})['language.name'] || code;
}

// Shows the page in code (Spanish texts stand in for a missing key, as on
// the server) and marks the document with it (WCAG 3.1.1).
export function setLang(code, remember) {
  lang = known(code) || DEFAULT;
  texts = catalogues[lang] || spanish;
  document.documentElement.lang = lang;
  if (remember) {
    // not a secret: the reader's choice, kept as the public pages keep it
    document.cookie = `${COOKIE}=${lang}; Path=/; Max-Age=31536000; SameSite=Lax`;
  }
  applyTexts(document);
}

export function currentLang() {
  return lang;
}

// The text of key with {name} replaced by vars.name; a missing text shows
// its key, never nothing.
export function t(key, vars) {
  const s = texts[key] ?? spanish[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, n) => (vars && n in vars ? String(vars[n]) : m));
}

// Marks el to show key (with vars), now and after a language switch.
export function setText(el, key, vars) {
  el.dataset.i18n = key;
  if (vars) el.dataset.i18nVars = JSON.stringify(vars);
  else delete el.dataset.i18nVars;
  el.textContent = t(key, vars);
  return el;
}

// Fills every element marked data-i18n (text) or data-i18n-label
// (aria-label) under root.
export function applyTexts(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) {
    const vars = el.dataset.i18nVars ? JSON.parse(el.dataset.i18nVars) : undefined;
    el.textContent = t(el.dataset.i18n, vars);
  }
  for (const el of root.querySelectorAll('[data-i18n-label]')) {
    el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  }
}

// The visible switch (issue 15 item 1): in container p, one button per
// other language, named in that language; a choice is remembered in the
// cookie and shown at once.
export function languageSwitch(p) {
  for (const b of p.querySelectorAll('button')) b.remove();
  for (const code of LANGS) {
    if (code === lang) continue;
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'link';
    b.lang = code;
    b.textContent = langName(code);
    b.addEventListener('click', () => {
      setLang(code, true);
      languageSwitch(p);
      p.querySelector('button')?.focus();
    });
    p.append(b);
  }
}
