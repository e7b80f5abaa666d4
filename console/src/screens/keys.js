// Integrations: sections of the organization's connections, "Public API"
// first (the keys and, for an admin, "Generate" and each row's
// "Disable"/"Enable", "Roll" and "Delete"), then "Webhooks" (webhooks.js).
// The dialogs that make keys are in key-dialogs.js.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { api, path } from '../api.js';
import { Loading, Problem, revocationPhrase, useLoad, when, who } from '../ui.js';
import { GenerateDialog, RollDialog, DeleteDialog } from './key-dialogs.js';
import { Webhooks } from './webhooks.js';

export function Integrations({ organization, canChange }) {
  return html`<h2>Integrations</h2>
    <${PublicApi} organization=${organization} canChange=${canChange} />
    <${Webhooks} organization=${organization} canChange=${canChange} />`;
}

function PublicApi({ organization, canChange }) {
  const keysPath = `/organizations/${path(organization.organizationId)}/api-keys`;
  const [keys, error, reload] = useLoad(() => api(keysPath).then((page) => page.items), [keysPath]);
  const [dialog, setDialog] = useState(null);
  const close = () => { setDialog(null); reload(); };
  return html`<section aria-labelledby="public-api">
      <h3 id="public-api">Public API</h3>
      <p>Your systems call the public API with a key of this organization. A key is shown once, when it is generated or rolled.
        A disabled or deleted key stops working ${revocationPhrase()}.</p>
      ${canChange ? html`<p><button type="button" class="primary" onClick=${() => setDialog({ kind: 'generate' })}>Generate</button></p>` : null}
      ${keys ? html`<${KeyList} keys=${keys} keysPath=${keysPath} canChange=${canChange} onDialog=${setDialog} onChanged=${reload} />`
        : html`<${Loading} error=${error} onRetry=${reload} />`}
    </section>
    ${dialog?.kind === 'generate' ? html`<${GenerateDialog} keysPath=${keysPath} organization=${organization} onClose=${close} />` : null}
    ${dialog?.kind === 'roll' ? html`<${RollDialog} keysPath=${keysPath} apiKey=${dialog.key} onClose=${close} />` : null}
    ${dialog?.kind === 'delete' ? html`<${DeleteDialog} keysPath=${keysPath} apiKey=${dialog.key} onClose=${close} />` : null}`;
}

// The server decides a key's state (its `state`); the console shows it.
export function keyState(key) {
  return key.state;
}

function KeyList({ keys, keysPath, canChange, onDialog, onChanged }) {
  const [query, setQuery] = useState('');
  if (keys.length === 0) {
    return html`<p>This organization has no keys yet.${canChange ? ' "Generate" makes the first one.' : ''}</p>`;
  }
  const needle = query.trim().toLowerCase();
  const shown = keys.filter((key) => !needle
    || [key.name || '', key.hint, keyState(key)].some((text) => text.toLowerCase().includes(needle)));
  const byId = new Map(keys.map((key) => [key.keyId, key]));
  const predecessor = new Map(keys.filter((key) => key.rolledTo).map((key) => [key.rolledTo, key]));
  return html`<div class="field search">
      <label for="key-search">Search keys</label>
      <input id="key-search" type="search" value=${query} placeholder="Name, hint or status"
        onInput=${(e) => setQuery(e.currentTarget.value)} />
    </div>
    <p role="status" class="muted">${needle ? `${shown.length} of ${keys.length} keys match.` : ''}</p>
    <div class="scroll" role="region" aria-label="Public API keys" tabindex="0"><table class="cards keys">
      <caption class="visually-hidden">Public API keys</caption>
      <thead><tr>
        <th scope="col">Name</th><th scope="col">Key</th><th scope="col">Scopes</th><th scope="col">Created</th>
        <th scope="col">Created by</th><th scope="col">Last used</th><th scope="col">Expires</th><th scope="col">Status</th>
        ${canChange ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : null}
      </tr></thead>
      <tbody>${shown.map((key) => html`<${KeyRow} key=${key.keyId} apiKey=${key} keysPath=${keysPath}
        successor=${byId.get(key.rolledTo)} predecessor=${predecessor.get(key.keyId)}
        canChange=${canChange} onDialog=${onDialog} onChanged=${onChanged} />`)}</tbody>
    </table></div>`;
}

function KeyRow({ apiKey, keysPath, successor, predecessor, canChange, onDialog, onChanged }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [said, setSaid] = useState('');
  const toggle = async () => {
    setBusy(true);
    try {
      await api(`${keysPath}/${path(apiKey.keyId)}`, { method: 'PATCH', body: { enabled: !apiKey.enabled } });
      setError(null);
      setSaid(apiKey.enabled ? `Disabled: it stops working ${revocationPhrase()}.` : 'Enabled.');
      onChanged();
    } catch (failure) {
      setError(failure);
    }
    setBusy(false);
  };
  const state = keyState(apiKey);
  return html`<tr>
    <th scope="row">${apiKey.name || html`<span class="muted">(no name)</span>`}</th>
    <td data-label="Key"><code>${apiKey.hint}</code>${predecessor
      ? html`<span class="lineage">replaces <code>${predecessor.hint}</code></span>` : null}</td>
    <td data-label="Scopes">${apiKey.scopes.map((scope) => html`<code class="scope">${scope}</code> `)}</td>
    <td data-label="Created" class="when">${when(apiKey.createdAt)}</td>
    <td data-label="Created by">${who(apiKey.createdBy)}</td>
    <td data-label="Last used" class="when">${when(apiKey.lastUsedAt)}</td>
    <td data-label="Expires" class="when">${apiKey.expiresAt ? when(apiKey.expiresAt) : 'Never'}</td>
    <td data-label="Status"><span class=${`status ${state}`}>${state}</span>${successor
      ? html`<span class="lineage">replaced by <code>${successor.hint}</code></span>` : null}</td>
    ${canChange ? html`<td class="row-actions">
      <button type="button" disabled=${busy} onClick=${toggle}>${apiKey.enabled ? 'Disable' : 'Enable'}</button>
      <button type="button" onClick=${() => onDialog({ kind: 'roll', key: apiKey })}>Roll</button>
      <button type="button" class="danger" onClick=${() => onDialog({ kind: 'delete', key: apiKey })}>Delete</button>
      <span role="status">${said}</span>
      <${Problem} error=${error} />
    </td>` : null}
  </tr>`;
}
