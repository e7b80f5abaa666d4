// The signed-in session, the console's only global state: config.json, the
// OAuth 2.0 authorization-code grant with PKCE against the issuer's
// /oauth2/authorize and /oauth2/token (Cognito's managed login in AWS, the
// local gateway's stand-in locally), and the tokens. The ID token (for the
// API) and the access token (for the user-pool API) live in memory only;
// the refresh token in sessionStorage, so a reload in the same tab stays
// signed in and closing the tab forgets it.

const REFRESH_TOKEN = 'orgkeys.console.refresh';
const PENDING = 'orgkeys.console.pending';

let config = null;
let tokens = null;

/**
 * config.json beside index.html: apiUrl, loginUrl, clientId, scope, and
 * optionally apiReferenceUrl, revocationSeconds (how long a disabled or
 * deleted key may still be accepted: the deployment's authorizer caches),
 * mfa (the user pool's MFA: OFF, OPTIONAL or ON) and userPoolUrl (where its
 * user-pool API answers: Cognito's regional endpoint, the gateway locally).
 */
export async function loadConfig() {
  const response = await fetch('config.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`config.json answered ${response.status}`);
  config = await response.json();
  return config;
}

export const apiUrl = () => config.apiUrl.replace(/\/$/, '');
export const apiReferenceUrl = () => config.apiReferenceUrl || null;
export const revocationSeconds = () => (Number.isFinite(config.revocationSeconds) ? config.revocationSeconds : null);
const loginUrl = () => config.loginUrl.replace(/\/$/, '');
/** The pool's MFA, when the console can set up an authenticator app in it; else null. */
export const mfa = () => (config.userPoolUrl && ['OPTIONAL', 'ON'].includes(config.mfa) ? config.mfa : null);
export const userPoolUrl = () => config.userPoolUrl;

const redirectUri = () => `${location.origin}${location.pathname}`;

function base64url(bytes) {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const randomText = (size) => base64url(crypto.getRandomValues(new Uint8Array(size)));

async function challengeOf(verifier) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** Leaves for the issuer's sign-in page; it comes back with ?code=&state=. */
export async function signIn() {
  const verifier = randomText(32);
  const state = randomText(16);
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, hash: location.hash }));
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: redirectUri(),
    scope: config.scope || 'openid email profile',
    state,
    code_challenge: await challengeOf(verifier),
    code_challenge_method: 'S256',
  });
  location.assign(`${loginUrl()}/oauth2/authorize?${query}`);
}

async function tokenRequest(fields) {
  const response = await fetch(`${loginUrl()}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: config.clientId, ...fields }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok || !body.id_token) {
    throw new Error(`The sign-in could not be completed (${body.error || response.status}).`);
  }
  tokens = { idToken: body.id_token, accessToken: body.access_token };
  if (body.refresh_token) sessionStorage.setItem(REFRESH_TOKEN, body.refresh_token);
}

/**
 * Restores or completes a session: the code of a sign-in that just came
 * back, else the tab's refresh token. Returns whether one is signed in.
 */
export async function resume() {
  const params = new URLSearchParams(location.search);
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || 'null');
  if (params.has('error')) {
    sessionStorage.removeItem(PENDING);
    history.replaceState(null, '', `${location.pathname}${pending?.hash || ''}`);
    throw new Error(`The sign-in was refused: ${params.get('error_description') || params.get('error')}.`);
  }
  if (params.has('code') && pending) {
    sessionStorage.removeItem(PENDING);
    history.replaceState(null, '', `${location.pathname}${pending.hash || ''}`);
    if (params.get('state') !== pending.state) throw new Error('The sign-in answer did not match its request.');
    await tokenRequest({
      grant_type: 'authorization_code',
      code: params.get('code'),
      redirect_uri: redirectUri(),
      code_verifier: pending.verifier,
    });
    return true;
  }
  return refresh();
}

/** Raised when a session this tab had can no longer be renewed. */
export class SessionEnded extends Error {
  constructor() {
    super('Your session has ended; sign in again.');
    this.title = 'Your session has ended; sign in again.';
  }
}

/**
 * New tokens from the refresh token: false when the tab has none, a
 * SessionEnded when the issuer refuses it (then it is forgotten).
 */
export async function refresh() {
  const refreshToken = sessionStorage.getItem(REFRESH_TOKEN);
  if (!refreshToken) return false;
  try {
    await tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken });
    return true;
  } catch (error) {
    if (error instanceof TypeError) throw error;
    forget();
    throw new SessionEnded();
  }
}

function forget() {
  tokens = null;
  sessionStorage.removeItem(REFRESH_TOKEN);
}

/**
 * Revokes the refresh token at the issuer (Cognito's /oauth2/revoke), so a
 * copy of it no longer works, forgets the tokens and ends the issuer's
 * session too. A failed revocation does not keep anyone signed in.
 */
export async function signOut() {
  const refreshToken = sessionStorage.getItem(REFRESH_TOKEN);
  if (refreshToken) {
    await fetch(`${loginUrl()}/oauth2/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: refreshToken, client_id: config.clientId }),
    }).catch(() => null);
  }
  forget();
  const query = new URLSearchParams({ client_id: config.clientId, logout_uri: redirectUri() });
  location.assign(`${loginUrl()}/logout?${query}`);
}

export const idToken = () => tokens && tokens.idToken;
/** The access token: for the user-pool API's calls on the user's own account. */
export const accessToken = () => tokens && tokens.accessToken;
