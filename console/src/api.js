// The one way the console calls the API: sends the ID token as bearer, maps
// an application/problem+json answer to an ApiError (title, detail, field
// errors by JSON pointer), and refreshes the session once on a 401.
import { apiUrl, idToken, refresh } from './session.js';

/** An API refusal, as its RFC 9457 problem says it. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `The API answered ${status}.`);
    this.status = status;
    // API Gateway's own refusals say only {"message"}.
    this.title = problem.title || problem.message || `Request failed (${status})`;
    this.detail = problem.detail || '';
    this.fields = {};
    for (const error of problem.errors || []) {
      const field = (error.pointer || error.parameter || '').replace(/^\//, '');
      if (field) this.fields[field] = error.detail;
    }
  }
}

/** Raised when the session cannot be renewed: the app shows the sign-in. */
export class SignedOut extends Error {}

let onSignedOut = () => {};
export const whenSignedOut = (handler) => { onSignedOut = handler; };

async function send(method, path, body) {
  const headers = { authorization: `Bearer ${idToken()}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${apiUrl()}/v1/console${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Calls `method path` under /v1/console; resolves to the JSON body (null for 204). */
export async function api(path, { method = 'GET', body } = {}) {
  let response = await send(method, path, body);
  if (response.status === 401 && await refresh()) response = await send(method, path, body);
  if (response.status === 401) {
    onSignedOut();
    throw new SignedOut('Your session has ended.');
  }
  if (response.status === 204) return null;
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, json || {});
  return json;
}

/** Every page of a paged list (`{items, nextCursor}`). */
export async function all(path) {
  const items = [];
  let cursor = null;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const page = await api(cursor ? `${path}${separator}cursor=${encodeURIComponent(cursor)}` : path);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

export const path = (...parts) => parts.map(encodeURIComponent).join('/');
