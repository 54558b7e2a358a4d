// One JSON API call for the pages that speak to llaved's API (the console
// with its bearer token, the portal with its cookie and CSRF header): the
// caller names its headers and credentials mode; the answer is
// {status, body}, a network failure status 0, a body that is not JSON an
// internal_error object naming the HTTP status.
export async function apiFetch(method, path, body, headers, credentials) {
  const h = { Accept: 'application/json', ...headers };
  if (body !== undefined) h['Content-Type'] = 'application/json';
  let r;
  try {
    r = await fetch(path, {
      method, headers: h, cache: 'no-store', credentials,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    return { status: 0, body: { error: 'network', message: String(e) } };
  }
  let out = null;
  try {
    out = await r.json();
  } catch {
    out = { error: 'internal_error', message: `HTTP ${r.status}` };
  }
  return { status: r.status, body: out };
}
