// The dialogs of the Public API section. "Generate" warns first and asks
// for the key's name, expiry, scopes and request limit, then shows the new
// key once (key-shown.js); "Roll" asks how long the old key keeps working,
// then shows the new key the same way; "Delete" confirms.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { api, path } from '../api.js';
import { Dialog, Field, Problem, formProblem, revocationPhrase } from '../ui.js';
import { KeyShown } from './key-shown.js';

const WARNING = 'Make sure to note down in a safe place your public API key: it is shown only once.';
/** The API's scopes (shared::keys::Scope), every one by default. */
const SCOPES = [
  ['schedules:read', 'look up schedules'],
  ['conversations:write', 'dispatch outbound conversations'],
  ['conversations:read', 'read conversations'],
];
const EXPIRIES = [['never', 'Never'], ['30', 'In 30 days'], ['90', 'In 90 days'], ['365', 'In 365 days'], ['date', 'On a date']];
const DAY_MS = 86400000;

/** The body's expiresAt for the choice, or undefined for never. */
function expiresAt(choice, date) {
  if (choice === 'never') return undefined;
  if (choice === 'date') return date ? new Date(`${date}T00:00:00Z`).toISOString() : '';
  return new Date(Date.now() + Number(choice) * DAY_MS).toISOString();
}

export function GenerateDialog({ keysPath, organization, onClose }) {
  const [form, setForm] = useState({ name: '', expiry: 'never', date: '', scopes: SCOPES.map(([scope]) => scope), limit: '' });
  const [created, setCreated] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  if (created) return html`<${KeyShown} title="Your new API key" created=${created} onClose=${onClose} />`;
  const set = (name) => (event) => setForm({ ...form, [name]: event.currentTarget.value });
  const toggleScope = (scope) => setForm({
    ...form,
    scopes: form.scopes.includes(scope) ? form.scopes.filter((s) => s !== scope) : [...form.scopes, scope],
  });
  const generate = async (event) => {
    event.preventDefault();
    setBusy(true);
    const body = { scopes: form.scopes, expiresAt: expiresAt(form.expiry, form.date) };
    if (form.name.trim()) body.name = form.name.trim();
    if (form.limit !== '') body.requestsPerMinute = Number(form.limit);
    try {
      setCreated(await api(keysPath, { method: 'POST', body }));
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };
  const fields = error?.fields || {};
  const ceiling = organization.limits?.requestsPerMinute;
  const tomorrow = new Date(Date.now() + DAY_MS).toISOString().slice(0, 10);
  return html`<${Dialog} title="Generate a public API key" onCancel=${onClose}>
    <form onSubmit=${generate}>
      <p class="warning" id="generate-warning"><strong>Warning.</strong> ${WARNING}</p>
      <${Problem} error=${formProblem(error, ['name', 'expiresAt', 'scopes', 'requestsPerMinute'])} />
      <${Field} label="Key name" error=${fields.name} hint="Optional: where the key is used, to tell it apart later.">
        ${(attrs) => html`<input ...${attrs} autofocus maxlength="100" value=${form.name} onInput=${set('name')} />`}
      <//>
      <${Field} label="Expires" error=${form.expiry === 'date' ? null : fields.expiresAt}>${(attrs) => html`<select ...${attrs}
        value=${form.expiry} onChange=${set('expiry')}>
        ${EXPIRIES.map(([value, label]) => html`<option value=${value}>${label}</option>`)}</select>`}<//>
      ${form.expiry === 'date' ? html`<${Field} label="Expiry date" error=${fields.expiresAt} hint="The key stops working at the start of this day (UTC).">
        ${(attrs) => html`<input ...${attrs} type="date" required min=${tomorrow} value=${form.date} onInput=${set('date')} />`}<//>` : null}
      <fieldset aria-describedby=${fields.scopes ? 'scopes-error' : undefined}>
        <legend>Scopes</legend>
        ${SCOPES.map(([scope, what]) => html`<div class="choice">
          <input type="checkbox" id=${`scope-${scope}`} aria-describedby=${`scope-${scope}-what`}
            checked=${form.scopes.includes(scope)} onChange=${() => toggleScope(scope)} />
          <label for=${`scope-${scope}`}> <code>${scope}</code></label> <span class="muted" id=${`scope-${scope}-what`}>${what}</span>
        </div>`)}
        ${fields.scopes ? html`<p class="field-error" id="scopes-error">${fields.scopes}</p>` : null}
      </fieldset>
      <${Field} label="Requests per minute" error=${fields.requestsPerMinute}
        hint=${`Optional: empty means the organization's limit${ceiling ? ` (${ceiling})` : ''}.`}>
        ${(attrs) => html`<input ...${attrs} type="number" inputmode="numeric" min="1" max=${ceiling} step="1"
          value=${form.limit} onInput=${set('limit')} />`}<//>
      <div class="actions">
        <button type="submit" class="primary" disabled=${busy}>Generate</button>
        <button type="button" onClick=${onClose}>Cancel</button>
      </div>
    </form>
  <//>`;
}

const GRACE_PERIODS = [['Immediately', 0], ['1 hour', 3600], ['24 hours', 86400]];

export function RollDialog({ keysPath, apiKey, onClose }) {
  const [grace, setGrace] = useState(3600);
  const [created, setCreated] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  if (created) {
    return html`<${KeyShown} title="Your rolled API key" created=${created} replaces=${apiKey} onClose=${onClose} />`;
  }
  const roll = async (event) => {
    event.preventDefault();
    setBusy(true);
    try {
      setCreated(await api(`${keysPath}/${path(apiKey.keyId)}/roll`, { method: 'POST', body: { gracePeriodSeconds: grace } }));
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };
  return html`<${Dialog} title=${`Roll the key ${apiKey.name || apiKey.hint}`} onCancel=${onClose}>
    <form onSubmit=${roll}>
      <p>Rolling makes a new key with the same name; the list shows which replaces which. Your systems switch to it while the old one keeps working for a while.</p>
      <${Problem} error=${error} />
      <fieldset>
        <legend>How long the old key keeps working</legend>
        ${GRACE_PERIODS.map(([label, seconds]) => html`<label class="choice">
          <input type="radio" name="grace" value=${seconds} checked=${grace === seconds}
            autofocus=${grace === seconds} onChange=${() => setGrace(seconds)} /> ${label}
        </label>`)}
      </fieldset>
      <p class="muted">"Immediately" still lets the old key through ${revocationPhrase()}, while the API's caches expire.</p>
      <div class="actions">
        <button type="submit" class="primary" disabled=${busy}>Roll</button>
        <button type="button" onClick=${onClose}>Cancel</button>
      </div>
    </form>
  <//>`;
}

export function DeleteDialog({ keysPath, apiKey, onClose }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const remove = async () => {
    setBusy(true);
    try {
      await api(`${keysPath}/${path(apiKey.keyId)}`, { method: 'DELETE' });
      onClose();
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };
  return html`<${Dialog} title="Delete this key?" onCancel=${onClose}>
    <p>The key <strong>${apiKey.name || '(no name)'}</strong> (<code>${apiKey.hint}</code>) stops working ${revocationPhrase()}, once the API's caches expire. This cannot be undone.</p>
    <${Problem} error=${error} />
    <div class="actions">
      <button type="button" class="danger" disabled=${busy} onClick=${remove}>Delete</button>
      <button type="button" autofocus onClick=${onClose}>Cancel</button>
    </div>
  <//>`;
}
