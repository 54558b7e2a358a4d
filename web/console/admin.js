// The screens of revocation officers (revoke with a reason, R6.1),
// auditors (the audit trail, R9.2) and security officers / system
// administrators (operator accounts, R1.4, with the API's two-person rule
// for disabling an administrator, CPS §5.2.4).
import * as api from './api.js';
import { t } from '/web/common/i18n.js';
import { $, display, el, fieldError, hideBox, hideMsg, showApiError, showMsg } from './ui.js';

let pending = null; // the revocation awaiting confirmation
let audit = { items: [], next: null, from: 1 };
let operators = [];

export function clear() {
  pending = null;
  audit = { items: [], next: null, from: 1 };
  operators = [];
  $('revoke-form').reset();
  $('revoke-confirm').hidden = true;
  hideMsg($('revoke-result'));
  $('audit-rows').replaceChildren();
  $('audit-table-wrap').hidden = true;
  $('audit-summary').hidden = true;
  $('audit-chain').hidden = true;
  $('audit-next').hidden = true;
  $('operators-rows').replaceChildren();
  hideMsg($('operators-result'));
}

// ---- revocation (revocation_officer) ---------------------------------------------

function submitRevoke(ev) {
  ev.preventDefault();
  hideBox($('revoke-error'));
  hideMsg($('revoke-result'));
  const serial = $('revoke-serial');
  const reason = $('revoke-reason');
  const s = serial.value.trim().replace(/:/g, '');
  const ok = [
    fieldError(serial, !s ? 'console.required'
      : /^[0-9A-Fa-f]{1,40}$/.test(s) ? null : 'console.revoke.serial.bad'),
    fieldError(reason, reason.value ? null : 'console.revoke.reason.needed'),
  ].every(Boolean);
  if (!ok) {
    document.querySelector('#revoke-form [aria-invalid="true"]').focus();
    return;
  }
  pending = { serial: s, reason: reason.value,
              comment: $('revoke-comment').value.trim() || null,
              contact: $('revoke-contact').value.trim() || null };
  // a revocation cannot be undone (no suspension, docs/API.md): one more
  // explicit step, with the serial and the reason in words
  $('revoke-confirm-text').replaceChildren(
    el('span', { i18n: 'console.revoke.confirm.text', vars: { serial: s } }), ' ',
    el('strong', { i18n: `console.reason.${pending.reason}` }));
  $('revoke-form').hidden = true;
  $('revoke-confirm').hidden = false;
  $('revoke-confirm-title').focus();
}

function cancelRevoke() {
  pending = null;
  $('revoke-confirm').hidden = true;
  $('revoke-form').hidden = false;
  $('revoke-serial').focus();
}

async function confirmRevoke() {
  const r = await api.call('POST', '/api/v1/ra/revocations', pending);
  $('revoke-confirm').hidden = true;
  $('revoke-form').hidden = false;
  if (r.status !== 200) {
    showApiError($('revoke-error'), r);
    $('revoke-error').focus();
    return;
  }
  $('revoke-form').reset();
  pending = null;
  showMsg($('revoke-result'), 'console.revoke.done', { serial: r.body.serial });
  $('revoke-title').focus();
}

export function showRevoke() {
  display('revoke');
}

// ---- audit trail (auditor) -------------------------------------------------------

function filters() {
  const f = (id) => $(id).value.trim().toLowerCase();
  return { event: f('audit-event'), actor: f('audit-actor'), object: f('audit-object'),
           result: $('audit-result').value };
}

function matches(item, q) {
  const has = (v, part) => !part || String(v ?? '').toLowerCase().includes(part);
  return has(item.event, q.event) && has(item.actor, q.actor) && has(item.object, q.object) &&
    (!q.result || item.result === q.result);
}

// What the API gives can be checked here only partly: that each entry's
// prev_hash is the hash of the entry before it.  Recomputing the hashes
// and checking the seals' signatures is `llave audit verify` (no API).
function chainCheck(items) {
  const entries = items.filter((i) => i.type === 'entry').sort((a, b) => a.seq - b.seq);
  for (let i = 1; i < entries.length; i++) {
    if (entries[i].seq === entries[i - 1].seq + 1 && entries[i].prev_hash !== entries[i - 1].hash) {
      return { ok: false, seq: entries[i].seq, n: entries.length };
    }
  }
  return { ok: true, n: entries.length };
}

function renderAudit() {
  const q = filters();
  const rows = $('audit-rows');
  rows.replaceChildren();
  const shown = audit.items.filter((i) => matches(i, q));
  for (const i of shown) {
    const result = i.type === 'seal' ? el('span', { i18n: 'console.audit.seal' })
      : el('span', { i18n: `console.audit.result.${i.result === 'success' ? 'success' : 'failure'}` });
    rows.append(el('tr', { class: i.result === 'failure' ? 'failure' : null },
                   el('td', {}, i.seq ?? ''), el('td', {}, i.time ?? ''),
                   el('td', {}, i.event ?? i.type), el('td', {}, i.actor ?? ''),
                   el('td', {}, i.object ?? ''), el('td', {}, result)));
  }
  $('audit-table-wrap').hidden = false;
  showMsg($('audit-summary'), 'console.audit.summary',
          { shown: shown.length, total: audit.items.length, from: audit.from });
  const c = chainCheck(audit.items);
  const chain = $('audit-chain');
  chain.className = c.ok ? 'done' : 'error';
  showMsg(chain, c.ok ? 'console.audit.chain.ok' : 'console.audit.chain.broken', c);
  $('audit-next').hidden = !audit.next;
}

async function loadAudit(from) {
  hideBox($('audit-error'));
  const limit = $('audit-limit').value;
  const r = await api.call('GET', `/api/v1/audit?from=${from}&limit=${limit}`);
  if (r.status !== 200) {
    showApiError($('audit-error'), r);
    return;
  }
  audit = { items: r.body.items || [], next: r.body.next_from, from };
  renderAudit();
}

function submitAudit(ev) {
  ev.preventDefault();
  const input = $('audit-from');
  const v = input.value.trim();
  if (!fieldError(input, /^[1-9][0-9]{0,15}$/.test(v) ? null : 'console.audit.from.bad')) {
    input.focus();
    return;
  }
  loadAudit(Number(v));
}

export async function showAudit() {
  display('audit');
  if (!audit.items.length) await loadAudit(1);
}

// ---- operators (security_officer, sysadmin) -----------------------------------------

function stateOf(o) {
  return o.locked ? 'console.operators.locked'
    : o.enabled ? 'console.operators.enabled' : 'console.operators.disabled';
}

function renderOperators() {
  const rows = $('operators-rows');
  rows.replaceChildren();
  for (const o of operators) {
    const verb = o.enabled && !o.locked ? 'disable' : 'enable';
    const b = el('button', { type: 'button', class: verb === 'disable' ? 'secondary' : null,
                             i18n: `console.operators.${verb}`, vars: { login: o.login } });
    b.addEventListener('click', () => setEnabled(o.login, verb));
    const roles = el('ul', { class: 'plain' },
                     ...o.roles.map((r) => el('li', { i18n: `console.role.${r}` })));
    rows.append(el('tr', {}, el('th', { scope: 'row' }, o.login), el('td', {}, roles),
                   el('td', {}, el('span', { i18n: stateOf(o) })),
                   el('td', {}, `${o.created_at} (${o.created_by})`), el('td', {}, b)));
  }
}

async function loadOperators() {
  hideBox($('operators-error'));
  const r = await api.call('GET', '/api/v1/operators');
  if (r.status !== 200) {
    showApiError($('operators-error'), r);
    return;
  }
  operators = r.body.operators || [];
  renderOperators();
}

// 200: done; 202: the first of the two administrators a security officer
// or sysadmin needs has asked; 409: the last active one of a kind.
async function setEnabled(login, verb) {
  hideMsg($('operators-result'));
  hideBox($('operators-error'));
  const r = await api.call('POST', `/api/v1/operators/${encodeURIComponent(login)}/${verb}`, {});
  if (r.status !== 200 && r.status !== 202) {
    showApiError($('operators-error'), r);
    $('operators-title').focus();
    return;
  }
  await loadOperators();
  const key = r.status === 202 ? 'console.operators.pending' : `console.operators.${verb}.done`;
  showMsg($('operators-result'), key, { login });
  $('operators-title').focus();
}

export async function showOperators() {
  display('operators');
  await loadOperators();
}

// ---- wiring ---------------------------------------------------------------------

export function init() {
  $('revoke-form').addEventListener('submit', submitRevoke);
  $('revoke-no').addEventListener('click', cancelRevoke);
  $('revoke-yes').addEventListener('click', confirmRevoke);
  $('audit-form').addEventListener('submit', submitAudit);
  for (const id of ['audit-event', 'audit-actor', 'audit-object', 'audit-result']) {
    $(id).addEventListener('input', () => audit.items.length && renderAudit());
  }
  $('audit-next').addEventListener('click', async () => {
    $('audit-from').value = audit.next;
    await loadAudit(audit.next);
    $('audit-title').focus();
  });
}
