// The dialogs of the Webhooks section. "Add endpoint" asks for the URL, a
// description, the event types (a checkbox each; none: all of them) and
// whether sub-organizations' events come too, then shows the signing secret
// once; "Roll secret" asks how long the old secret keeps signing, then shows
// the new one the same way; "Delete" confirms.
import { useLayoutEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { api, path } from '../api.js';
import { Dialog, Field, Problem, formProblem } from '../ui.js';

/**
 * The API's event types (shared::webhooks::EVENT_TYPES; openapi.yaml's
 * WebhookEventType, which the browser test compares with these boxes).
 */
const EVENT_TYPES = [
  'organization.created', 'organization.updated', 'organization.suspended', 'organization.resumed', 'organization.deleted',
  'api_key.created', 'api_key.updated', 'api_key.rolled', 'api_key.deleted', 'api_key.leaked',
  'schedule.created', 'schedule.updated', 'schedule.deleted', 'dispatch.created',
  'conversation.sent', 'conversation.delivered', 'conversation.failed',
  'user.invited', 'user.updated', 'user.removed',
  'webhook.created', 'webhook.updated', 'webhook.deleted', 'webhook.secret_rolled', 'webhook.disabled', 'webhook.test',
];

export function AddEndpointDialog({ endpointsPath, onChanged, onClose }) {
  const [form, setForm] = useState({ url: '', description: '', eventTypes: [], includeSubOrganizations: false });
  const [created, setCreated] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  if (created) return html`<${SecretShown} title="Your endpoint's signing secret" shown=${created} onClose=${onClose} />`;
  const set = (name) => (event) => setForm({ ...form, [name]: event.currentTarget.value });
  const toggle = (type) => setForm({
    ...form,
    eventTypes: form.eventTypes.includes(type) ? form.eventTypes.filter((t) => t !== type) : [...form.eventTypes, type],
  });
  const add = async (event) => {
    event.preventDefault();
    setBusy(true);
    const body = { url: form.url.trim(), includeSubOrganizations: form.includeSubOrganizations };
    if (form.description.trim()) body.description = form.description.trim();
    if (form.eventTypes.length > 0) body.eventTypes = EVENT_TYPES.filter((type) => form.eventTypes.includes(type));
    try {
      setCreated(await api(endpointsPath, { method: 'POST', body }));
      onChanged();
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };
  const fields = error?.fields || {};
  return html`<${Dialog} title="Add a webhook endpoint" onCancel=${onClose} wide>
    <form onSubmit=${add}>
      <${Problem} error=${formProblem(error, ['url', 'description', 'eventTypes'])} />
      <${Field} label="Endpoint URL" error=${fields.url} hint="https://, where your system receives the events.">
        ${(attrs) => html`<input ...${attrs} type="url" required autofocus maxlength="2048" value=${form.url}
          onInput=${set('url')} spellcheck="false" autocomplete="off" />`}
      <//>
      <${Field} label="Description" error=${fields.description} hint="Optional: what receives them, to tell endpoints apart.">
        ${(attrs) => html`<input ...${attrs} maxlength="500" value=${form.description} onInput=${set('description')} />`}
      <//>
      <fieldset aria-describedby=${fields.eventTypes ? 'event-types-hint event-types-error' : 'event-types-hint'}>
        <legend>Events</legend>
        <p class="hint" id="event-types-hint">None checked: every event type, including ones added later.</p>
        <div class="event-types">${EVENT_TYPES.map((type) => html`<div class="choice">
          <input type="checkbox" id=${`event-${type}`} checked=${form.eventTypes.includes(type)} onChange=${() => toggle(type)} />
          <label for=${`event-${type}`}> <code>${type}</code></label>
        </div>`)}</div>
        ${fields.eventTypes ? html`<p class="field-error" id="event-types-error">${fields.eventTypes}</p>` : null}
      </fieldset>
      <div class="choice">
        <input type="checkbox" id="include-sub-organizations" checked=${form.includeSubOrganizations}
          onChange=${(e) => setForm({ ...form, includeSubOrganizations: e.currentTarget.checked })} />
        <label for="include-sub-organizations"> Include sub-organizations</label>
        <span class="muted"> (their events come here too)</span>
      </div>
      <div class="actions">
        <button type="submit" class="primary" disabled=${busy}>Add endpoint</button>
        <button type="button" onClick=${onClose}>Cancel</button>
      </div>
    </form>
  <//>`;
}

/**
 * A signing secret, shown once: the read-only "Signing secret" textbox and
 * "Copy" (a copy by hand counts too). "Close" before a copy first says it
 * cannot be shown again ("Close anyway"); leaving the page asks first.
 */
function SecretShown({ title, shown, onClose }) {
  const [copied, setCopied] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [copyError, setCopyError] = useState(null);
  useLayoutEffect(() => {
    const ask = (event) => { event.preventDefault(); event.returnValue = ''; };
    addEventListener('beforeunload', ask);
    return () => removeEventListener('beforeunload', ask);
  }, []);
  const markCopied = () => { setCopied(true); setConfirming(false); };
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(shown.secret);
      markCopied();
    } catch {
      setCopyError({ title: 'Could not copy', detail: 'Select the secret and copy it yourself.' });
    }
  };
  const cancel = () => (copied || confirming ? onClose() : setConfirming(true));
  return html`<${Dialog} title=${title} onCancel=${cancel} wide>
    <${Field} label="Signing secret">${(attrs) => html`<textarea ...${attrs} class="secret" readonly rows="2" value=${shown.secret}
      autofocus onFocus=${(e) => e.currentTarget.select()} onCopy=${markCopied} spellcheck="false" autocomplete="off" />`}<//>
    <p>Verify each request to <code>${shown.url}</code> with it (Standard Webhooks: the <code>webhook-signature</code> header).
      It is shown only now.${shown.previousSecretExpiresAt ? ' The previous secret also signs for the time you chose.' : ''}</p>
    <${Problem} error=${copyError} />
    <p role="status" class="copied">${copied ? 'Copied to the clipboard.' : ''}</p>
    ${confirming ? html`<p class="warning" role="alert"><strong>You have not copied the secret.</strong> It cannot be shown again: once closed, only a roll makes a new one.</p>` : null}
    <div class="actions">
      <button type="button" class="primary" onClick=${copy}>Copy</button>
      ${confirming
        ? html`<button type="button" class="danger" onClick=${onClose}>Close anyway</button>`
        : html`<button type="button" onClick=${cancel}>Close</button>`}
    </div>
  <//>`;
}

const OVERLAPS = [['Immediately', 0], ['1 hour', 3600], ['24 hours', 86400]];

export function RollSecretDialog({ endpointsPath, endpoint, onChanged, onClose }) {
  const [overlap, setOverlap] = useState(86400);
  const [rolled, setRolled] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  if (rolled) return html`<${SecretShown} title="Your endpoint's new signing secret" shown=${rolled} onClose=${onClose} />`;
  const roll = async (event) => {
    event.preventDefault();
    setBusy(true);
    try {
      const rollPath = `${endpointsPath}/${path(endpoint.endpointId)}/roll-secret`;
      setRolled(await api(rollPath, { method: 'POST', body: { expiresIn: overlap } }));
      onChanged();
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };
  return html`<${Dialog} title="Roll the signing secret" onCancel=${onClose}>
    <form onSubmit=${roll}>
      <p>A new secret signs every request to <code>${endpoint.url}</code>. Meanwhile the old one signs too (two signatures), so your receiver can switch without losing a message.</p>
      <${Problem} error=${error} />
      <fieldset>
        <legend>How long the old secret keeps signing</legend>
        ${OVERLAPS.map(([label, seconds]) => html`<label class="choice">
          <input type="radio" name="overlap" value=${seconds} checked=${overlap === seconds}
            autofocus=${overlap === seconds} onChange=${() => setOverlap(seconds)} /> ${label}
        </label>`)}
      </fieldset>
      <div class="actions">
        <button type="submit" class="primary" disabled=${busy}>Roll secret</button>
        <button type="button" onClick=${onClose}>Cancel</button>
      </div>
    </form>
  <//>`;
}

export function DeleteEndpointDialog({ endpointsPath, endpoint, onClose }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const remove = async () => {
    setBusy(true);
    try {
      await api(`${endpointsPath}/${path(endpoint.endpointId)}`, { method: 'DELETE' });
      onClose();
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };
  return html`<${Dialog} title="Delete this endpoint?" onCancel=${onClose}>
    <p>Nothing more is sent to <code>${endpoint.url}</code>, and its delivery log is no longer shown. This cannot be undone.</p>
    <${Problem} error=${error} />
    <div class="actions">
      <button type="button" class="danger" disabled=${busy} onClick=${remove}>Delete</button>
      <button type="button" autofocus onClick=${onClose}>Cancel</button>
    </div>
  <//>`;
}
