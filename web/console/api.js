// The console's only way to the server: the JSON API with the operator's
// bearer token (RFC 6750).  The token is kept in this module's memory and
// nowhere else (no localStorage, no cookie): a reload, the logout button,
// the token's expiry or any 401 forgets it.  The API decides every call;
// the console only hides what an operator's roles cannot do.
import { apiFetch } from '/web/common/api.js';

let session = null; // {token, login, roles, expiresAt}
let expiryTimer = null;
let onEnd = () => {};

export function whenSessionEnds(fn) {
  onEnd = fn;
}

export function currentSession() {
  return session;
}

export function hasRole(...roles) {
  return !!session && roles.some((r) => session.roles.includes(r));
}

function forget(reason) {
  const had = session !== null;
  session = null;
  clearTimeout(expiryTimer);
  expiryTimer = null;
  if (had) onEnd(reason);
}

// One API call: {status, body}; a network failure is status 0.  A 401 on
// a call made with a token means the session is over (expired, ended by
// an administrator): it is forgotten.
export async function call(method, path, body) {
  const headers = session ? { Authorization: `Bearer ${session.token}` } : {};
  const r = await apiFetch(method, path, body, headers, 'omit');
  if (r.status === 401 && session && path !== '/api/v1/operators/login') forget('expired');
  return r;
}

// POST /api/v1/operators/login, then GET /api/v1/auth/session for the
// login the token names.  Answers the failed call, or null.
export async function login(loginName, password, totp) {
  const r = await call('POST', '/api/v1/operators/login',
                       { login: loginName, password, totp });
  if (r.status !== 200) return r;
  session = { token: r.body.token, login: loginName, roles: r.body.roles || [],
              expiresAt: Date.now() + r.body.expires_in * 1000 };
  const who = await call('GET', '/api/v1/auth/session');
  if (who.status !== 200) {
    forget('error');
    return who;
  }
  session.login = who.body.id;
  session.roles = who.body.roles;
  expiryTimer = setTimeout(() => forget('expired'), who.body.expires_in * 1000);
  return null;
}

// Ends the session on the server, and here whatever the server says.
export async function logout() {
  if (session) await call('POST', '/api/v1/auth/logout', {});
  forget('logout');
}
