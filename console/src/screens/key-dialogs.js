// The dialogs of the Public API section. "Generate" warns first, then shows
// the new key once ("API key", "Copy"); "Roll" asks how long the old key
// keeps working, then shows the new key the same way; "Delete" confirms.
// The plaintext key lives only in the state of the dialog that shows it: it
// is gone from the page when the dialog closes.
import { useLayoutEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { api, path } from '../api.js';
import { Dialog, Field, Problem } from '../ui.js';

const WARNING = 'Make sure to note down in a safe place your public API key: it is shown only once.';

export function GenerateDialog({ keysPath, onClose }) {
  const [name, setName] = useState('');
  const [created, setCreated] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  if (created) return html`<${KeyShown} title="Your new API key" created=${created} onClose=${onClose} />`;
  const generate = async (event) => {
    event.preventDefault();
    setBusy(true);
    try {
      setCreated(await api(keysPath, { method: 'POST', body: name.trim() ? { name: name.trim() } : {} }));
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };
  const fields = error?.fields || {};
  return html`<${Dialog} title="Generate a public API key" onCancel=${onClose}>
    <form onSubmit=${generate}>
      <p class="warning" id="generate-warning"><strong>Warning.</strong> ${WARNING}</p>
      <${Problem} error=${error} />
      <${Field} label="Key name" error=${fields.name} hint="Optional: where the key is used, to tell it apart later.">
        ${(attrs) => html`<input ...${attrs} autofocus maxlength="100" value=${name} onInput=${(e) => setName(e.currentTarget.value)} />`}
      <//>
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
  if (created) return html`<${KeyShown} title="Your rolled API key" created=${created} onClose=${onClose} />`;
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
      <p>Rolling makes a new key. Your systems switch to it while the old one keeps working for a while.</p>
      <${Problem} error=${error} />
      <fieldset>
        <legend>How long the old key keeps working</legend>
        ${GRACE_PERIODS.map(([label, seconds]) => html`<label class="choice">
          <input type="radio" name="grace" value=${seconds} checked=${grace === seconds}
            autofocus=${grace === seconds} onChange=${() => setGrace(seconds)} /> ${label}
        </label>`)}
      </fieldset>
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
    <p>The key <strong>${apiKey.name || '(no name)'}</strong> (<code>${apiKey.hint}</code>) stops working at once. This cannot be undone.</p>
    <${Problem} error=${error} />
    <div class="actions">
      <button type="button" class="danger" disabled=${busy} onClick=${remove}>Delete</button>
      <button type="button" autofocus onClick=${onClose}>Cancel</button>
    </div>
  <//>`;
}

/**
 * A new key, shown once: the read-only "API key" textbox, "Copy", and
 * "Cancel", which closes at once after a copy and otherwise first says the
 * key cannot be shown again ("Close anyway"). Leaving the page asks first.
 */
function KeyShown({ title, created, onClose }) {
  const [copied, setCopied] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [copyError, setCopyError] = useState(null);
  // A layout effect: Preact runs passive effects' cleanups after the next
  // paint, and leaving must stop asking the moment the key leaves the page.
  useLayoutEffect(() => {
    const ask = (event) => { event.preventDefault(); event.returnValue = ''; };
    addEventListener('beforeunload', ask);
    return () => removeEventListener('beforeunload', ask);
  }, []);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.apiKey);
      setCopied(true);
      setConfirming(false);
    } catch {
      setCopyError({ title: 'Could not copy', detail: 'Select the key and copy it yourself.' });
    }
  };
  const cancel = () => (copied || confirming ? onClose() : setConfirming(true));
  return html`<${Dialog} title=${title} onCancel=${cancel} wide>
    <${Field} label="API key">${(attrs) => html`<input ...${attrs} class="secret" readonly value=${created.apiKey}
      autofocus onFocus=${(e) => e.currentTarget.select()} spellcheck="false" autocomplete="off" />`}<//>
    <p>It will remain valid for your organization until it is deleted.</p>
    <p class="muted">Send it as <code>Authorization: Bearer</code> with each request. Name: ${created.name || '(no name)'}, hint <code>${created.hint}</code>.</p>
    <${Problem} error=${copyError} />
    <p role="status" class="copied">${copied ? 'Copied to the clipboard.' : ''}</p>
    ${confirming ? html`<p class="warning" role="alert"><strong>You have not copied the key.</strong> It cannot be shown again: once closed, only a new key will do.</p>` : null}
    <div class="actions">
      <button type="button" class="primary" onClick=${copy}>Copy</button>
      ${confirming
        ? html`<button type="button" class="danger" onClick=${onClose}>Close anyway</button>`
        : html`<button type="button" onClick=${cancel}>Cancel</button>`}
    </div>
  <//>`;
}
