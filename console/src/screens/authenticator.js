// Settings → "Authenticator app": whether the user's sign-ins ask for a
// code from one, and "Set up authenticator", Cognito's software-token MFA in
// three calls on the user's own account: AssociateSoftwareToken (the secret,
// shown as a QR code, an otpauth:// link and the key as text), then the
// code the app shows to VerifySoftwareToken, then SetUserMFAPreference
// (enabled and preferred). The secret lives only in the dialog's state.
import { useRef, useState } from 'preact/hooks';
import { encode } from 'uqr';
import { html } from '../html.js';
import { userPool } from '../api.js';
import { mfa } from '../session.js';
import { Dialog, Field, Loading, Problem, formProblem, useLoad } from '../ui.js';

/** The name authenticator apps show the account under. */
const ISSUER = 'orgkeys';

/**
 * The Key Uri Format's otpauth:// URI of a TOTP secret (base32) for
 * `account`. SHA-1, 6 digits and 30 seconds are the format's defaults, so
 * they are left out: the shorter the URI, the coarser and easier to scan its QR code.
 */
function otpauthUri(secret, account) {
  const label = `${encodeURIComponent(ISSUER)}:${encodeURIComponent(account)}`;
  return `otpauth://totp/${label}?${new URLSearchParams({ secret, issuer: ISSUER })}`;
}

/** A base32 key in groups of four, as it is easier to type. */
const grouped = (secret) => secret.replace(/(.{4})(?=.)/g, '$1 ');

export function AuthenticatorSection({ me }) {
  const [user, error, reload] = useLoad(() => userPool('GetUser'), []);
  const [settingUp, setSettingUp] = useState(false);
  const [done, setDone] = useState('');
  const on = (user?.UserMFASettingList || []).includes('SOFTWARE_TOKEN_MFA');
  const finished = () => {
    setSettingUp(false);
    setDone('Your authenticator app is set up: from your next sign-in, enter the code it shows after your password.');
    reload();
  };
  return html`<section class="authenticator" aria-labelledby="authenticator-heading">
    <h2 id="authenticator-heading">Authenticator app</h2>
    ${user ? html`<p>${on
      ? 'On: each sign-in asks for the 6-digit code your authenticator app shows, after your password.'
      : 'Off: sign-ins ask for your password only. With an authenticator app (such as Google Authenticator, Microsoft Authenticator or 1Password), each sign-in also asks for the 6-digit code it shows.'}
      ${mfa() === 'ON' ? ' Your organization requires one.' : ''}</p>
      <p><button type="button" class=${on ? '' : 'primary'} onClick=${() => { setDone(''); setSettingUp(true); }}>
        ${on ? 'Replace authenticator' : 'Set up authenticator'}</button></p>` : html`<${Loading} error=${error} onRetry=${reload} />`}
    <p role="status">${done}</p>
    ${settingUp ? html`<${SetUpDialog} account=${me.user.email || me.user.id}
      onCancel=${() => setSettingUp(false)} onDone=${finished} />` : null}
  </section>`;
}

function SetUpDialog({ account, onCancel, onDone }) {
  const [secret, loadError, reload] = useLoad(() => userPool('AssociateSoftwareToken').then((answer) => answer.SecretCode), []);
  const [code, setCode] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  // A verified secret is not verified again when only the preference failed.
  const verified = useRef(false);
  const verify = async (event) => {
    event.preventDefault();
    setBusy(true);
    try {
      if (!verified.current) {
        await userPool('VerifySoftwareToken', { UserCode: code.replace(/\s/g, ''), FriendlyDeviceName: 'Authenticator app' });
        verified.current = true;
      }
      await userPool('SetUserMFAPreference', { SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true } });
      onDone();
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };
  const uri = secret && otpauthUri(secret, account);
  return html`<${Dialog} title="Set up an authenticator app" onCancel=${onCancel} wide>
    ${secret ? html`<ol class="steps">
      <li>
        <p>In your authenticator app, add an account: scan this QR code, open the link on this device, or type the setup key.</p>
        <div class="qr-and-key">
          <${QrCode} text=${uri} />
          <div>
            <p><a href=${uri}>Open in an authenticator app</a></p>
            <${Field} label="Setup key" hint="Time-based, 6 digits, 30 seconds.">${(attrs) => html`<textarea ...${attrs} class="secret setup-key" readonly rows="2"
              value=${grouped(secret)} onFocus=${(e) => e.currentTarget.select()} spellcheck="false" autocomplete="off" />`}<//>
          </div>
        </div>
      </li>
      <li>
        <form onSubmit=${verify}>
          <${Problem} error=${formProblem(error, ['code'])} />
          <${Field} label="Code from the app" hint="The 6-digit code it shows for orgkeys now." error=${error?.fields?.code}>${(attrs) => html`<input ...${attrs} autofocus
            inputmode="numeric" autocomplete="one-time-code" maxlength="7" required value=${code}
            onInput=${(e) => setCode(e.currentTarget.value)} />`}<//>
          <div class="actions">
            <button type="submit" class="primary" disabled=${busy}>Verify</button>
            <button type="button" onClick=${onCancel}>Cancel</button>
          </div>
        </form>
      </li>
    </ol>` : html`<${Loading} error=${loadError} onRetry=${reload} />
      <div class="actions"><button type="button" onClick=${onCancel}>Cancel</button></div>`}
  <//>`;
}

/**
 * The QR code of `text`, drawn as one SVG path (dark on white whatever the
 * colour scheme, with the quiet zone scanners need); the page has no image
 * to load and no script to run for it.
 */
function QrCode({ text }) {
  const { size, data } = encode(text, { ecc: 'M', border: 4 });
  let path = '';
  data.forEach((row, y) => row.forEach((dark, x) => {
    if (dark) path += `M${x} ${y}h1v1h-1z`;
  }));
  return html`<svg class="qr" viewBox=${`0 0 ${size} ${size}`} role="img" aria-label="QR code of the setup link"
    shape-rendering="crispEdges">
    <rect width=${size} height=${size} fill="#fff" />
    <path d=${path} fill="#000" />
  </svg>`;
}
