// The operators' console (issue 15 item 5): one page, one screen per task,
// each shown only to the roles whose API routes it calls (src/http/
// http_ra.c, http_auth.c, http_audit.c); the API refuses the rest anyway.
// Screens are addressed by the URL's fragment (#register, #citizen/<id>),
// so the browser's back button works and nothing reaches the server.
import * as api from './api.js';
import { holdForms } from '/web/common/forms.js';
import { languageSwitch, loadCatalogues, pickLang, setLang } from '/web/common/i18n.js';
import { $, el, announce, display, fieldError, showMsg, hideMsg } from './ui.js';
import * as ra from './ra.js';
import * as admin from './admin.js';

// screen -> the roles that have it as a task, and what shows it
const SCREENS = {
  home: { roles: null, show: showHome },
  register: { roles: ['ra_officer'], show: ra.showRegister },
  citizen: { roles: ['ra_officer', 'ra_admin'], show: ra.showCitizen },
  requests: { roles: ['ra_admin'], show: ra.showRequests },
  revoke: { roles: ['revocation_officer'], show: admin.showRevoke },
  audit: { roles: ['auditor'], show: admin.showAudit },
  operators: { roles: ['security_officer', 'sysadmin'], show: admin.showOperators },
};

function allowed(name) {
  const s = SCREENS[name];
  return !!s && (s.roles === null || api.hasRole(...s.roles));
}

function route() {
  const [name, arg] = location.hash.replace(/^#/, '').split('/');
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.view === (name || 'home')) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!api.currentSession()) return showLogin();
  if (!SCREENS[name || 'home']) return display('denied');
  if (!allowed(name || 'home')) return display('denied');
  return SCREENS[name || 'home'].show(arg);
}

// ---- session ---------------------------------------------------------------

function showLogin() {
  $('nav').hidden = true;
  $('who').hidden = true;
  $('logout').hidden = true;
  display('login');
}

function sessionBar() {
  const s = api.currentSession();
  $('nav').hidden = false;
  for (const a of document.querySelectorAll('#nav a')) {
    a.parentElement.hidden = !allowed(a.dataset.view);
  }
  const who = $('who');
  who.replaceChildren(el('span', { i18n: 'console.who', vars: { login: s.login } }));
  who.hidden = false;
  $('logout').hidden = false;
}

async function submitLogin(ev) {
  ev.preventDefault();
  const f = ev.target;
  const box = $('login-error');
  hideMsg(box);
  let ok = fieldError(f.login, f.login.value.trim() ? null : 'console.required');
  ok = fieldError(f.password, f.password.value ? null : 'console.required') && ok;
  ok = fieldError(f.totp, /^[0-9]{6}$/.test(f.totp.value.trim()) ? null : 'console.login.totp.bad') && ok;
  if (!ok) {
    f.querySelector('[aria-invalid="true"]').focus();
    return;
  }
  const r = await api.login(f.login.value.trim(), f.password.value, f.totp.value.trim());
  f.password.value = '';
  f.totp.value = '';
  if (r) {
    // 401 says nothing of which factor failed, nor does this
    const key = r.status === 401 ? 'console.login.failed'
      : r.status === 429 ? 'console.login.throttled' : 'console.error.other';
    showMsg(box, key, { status: r.status });
    f.login.focus();
    return;
  }
  sessionBar();
  announce('console.login.done');
  route();
}

function sessionEnded(reason) {
  // the screens' data go with the token
  ra.clear();
  admin.clear();
  showLogin();
  if (reason === 'expired') showMsg($('login-error'), 'console.login.expired');
  else announce('console.logout.done');
}

// ---- home: the operator's tasks ---------------------------------------------

function showHome() {
  const s = api.currentSession();
  $('home-roles').replaceChildren(
    el('span', { i18n: 'console.home.roles' }), ' ',
    ...s.roles.flatMap((r, i) => [i ? ', ' : '', el('span', { i18n: `console.role.${r}` })]));
  const list = $('home-tasks');
  list.replaceChildren();
  for (const name of Object.keys(SCREENS)) {
    if (name === 'home' || !allowed(name)) continue;
    list.append(el('li', {}, el('a', { href: `#${name}`, i18n: `console.nav.${name}` }),
                   ' — ', el('span', { i18n: `console.task.${name}` })));
  }
  $('home-none').hidden = list.children.length > 0;
  display('home');
}

// ---- start ------------------------------------------------------------------

const releaseForms = holdForms();

async function start() {
  await loadCatalogues();
  setLang(pickLang(), false);
  languageSwitch($('langs'));
  api.whenSessionEnds(sessionEnded);
  $('login-form').addEventListener('submit', submitLogin);
  $('logout').addEventListener('click', () => api.logout());
  ra.init();
  admin.init();
  window.addEventListener('hashchange', route);
  releaseForms();
  route();
}

start().catch((e) => {
  $('status').textContent = String(e);
});
