// The management API client: every request carries the stored key as X-API-Key; a 401 sends
// the user back to the login. Errors follow the API's {"error":{"code","message"}} shape.

const KEY_STORAGE = 'mcpproxy.apiKey';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let onUnauthorized = () => {};

/** Registers what to do when the API answers 401 (the app shows the login). */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

export function getKey() {
  try {
    return localStorage.getItem(KEY_STORAGE) ?? '';
  } catch {
    return '';
  }
}

export function setKey(key) {
  localStorage.setItem(KEY_STORAGE, key);
}

export function clearKey() {
  localStorage.removeItem(KEY_STORAGE);
}

/** Encodes one path segment (server and tool names may hold any character). */
export const seg = (value) => encodeURIComponent(value);

/** Builds a query string from an object, skipping empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/**
 * Calls /api/v1<path>. Resolves with the parsed JSON (null for 204); rejects with ApiError.
 * `key` overrides the stored key (used by the login to test a key before storing it).
 */
export async function api(path, { method = 'GET', body, key = getKey(), signal } = {}) {
  const headers = { Accept: 'application/json', 'X-API-Key': key };
  const init = { method, headers, signal, cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`/api/v1${path}`, init);
  } catch (err) {
    if (err?.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'The proxy is not reachable.');
  }
  if (response.status === 204) return null;
  let data = null;
  const text = await response.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const code = data?.error?.code ?? `http_${response.status}`;
    const message = data?.error?.message ?? `${response.status} ${response.statusText}`;
    const error = new ApiError(response.status, code, message);
    if (response.status === 401) onUnauthorized(error);
    throw error;
  }
  return data;
}
