// The one way the console calls the API: sends the ID token as bearer, maps
// an application/problem+json answer to an ApiError (title, detail, field
// errors by JSON pointer), a failed connection to a NetworkError, and
// refreshes the session once on a 401. userPool() calls the user pool's own
// API the same way, for the signed-in user's account (their authenticator app).
import { accessToken, apiUrl, idToken, refresh, SessionEnded, userPoolUrl } from './session.js';

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
      // By the top-level member the pointer names (/scopes/1 is scopes).
      const field = (error.pointer || error.parameter || '').split('/').filter(Boolean)[0];
      if (field && !this.fields[field]) this.fields[field] = error.detail;
    }
  }
}

/** The API could not be reached: the screen says so and offers "Retry". */
export class NetworkError extends Error {
  constructor() {
    super('Check your connection, then retry.');
    this.title = 'Could not reach the API';
    this.detail = 'Check your connection, then retry.';
    this.network = true;
  }
}

let onSignedOut = () => {};
/** `handler(error)` runs when the session has ended: the app shows the sign-in. */
export const whenSignedOut = (handler) => { onSignedOut = handler; };

async function send(method, path, body) {
  const headers = { authorization: `Bearer ${idToken()}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  try {
    return await fetch(`${apiUrl()}/v1/console${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new NetworkError();
  }
}

async function renewed() {
  try {
    return await refresh();
  } catch (error) {
    if (error instanceof SessionEnded) return false;
    throw new NetworkError();
  }
}

/** Calls `method path` under /v1/console; resolves to the JSON body (null for 204). */
export async function api(path, { method = 'GET', body } = {}) {
  let response = await send(method, path, body);
  if (response.status === 401 && await renewed()) response = await send(method, path, body);
  if (response.status === 401) {
    const ended = new SessionEnded();
    onSignedOut(ended);
    throw ended;
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

/**
 * A refusal of the user-pool API (Cognito's `__type` and message), as the
 * screens show problems; a wrong code is the "code" field's error.
 */
export class UserPoolError extends Error {
  constructor(kind, message) {
    super(message || kind);
    this.kind = kind;
    this.fields = {};
    if (['EnableSoftwareTokenMFAException', 'CodeMismatchException'].includes(kind)) {
      this.title = 'That code did not match.';
      this.fields.code = 'Enter the code your authenticator app shows now. If it keeps failing, check the device\'s clock.';
    } else {
      this.title = 'The user pool refused the request.';
      this.detail = message || kind;
    }
  }
}

async function sendToUserPool(operation, body) {
  try {
    return await fetch(userPoolUrl(), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `AWSCognitoIdentityProviderService.${operation}`,
      },
      body: JSON.stringify({ AccessToken: accessToken(), ...body }),
    });
  } catch {
    throw new NetworkError();
  }
}

/** Cognito's error type: `__type`, without a namespace before `#`. */
const kindOf = (answer) => String(answer.__type || '').split('#').pop();

/**
 * Calls the user-pool API's `operation` (Cognito's JSON protocol) with the
 * signed-in user's access token; a token the pool no longer takes (expired)
 * refreshes the session once, as api() does on a 401.
 */
export async function userPool(operation, body = {}) {
  // A token without the user-pool scope is the deployment's mistake, not an
  // ended session: it is shown as it is.
  const ended = (answer) => kindOf(answer) === 'NotAuthorizedException' && !/scope/i.test(answer.message || '');
  let response = await sendToUserPool(operation, body);
  let answer = await response.json().catch(() => ({}));
  if (ended(answer) && await renewed()) {
    response = await sendToUserPool(operation, body);
    answer = await response.json().catch(() => ({}));
  }
  if (ended(answer)) {
    const signedOut = new SessionEnded();
    onSignedOut(signedOut);
    throw signedOut;
  }
  if (!response.ok) throw new UserPoolError(kindOf(answer), answer.message);
  return answer;
}
