// Integrations → "Public API": the organization's keys and, for an admin,
// "Generate" and each row's "Disable"/"Enable", "Roll" and "Delete". The
// dialogs that show a new key are in key-dialogs.js.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { api, path } from '../api.js';
import { Loading, Problem, useLoad, when, who } from '../ui.js';
import { GenerateDialog, RollDialog, DeleteDialog } from './key-dialogs.js';

export function Integrations({ organization, canChange }) {
  const keysPath = `/organizations/${path(organization.organizationId)}/api-keys`;
  const [keys, error, reload] = useLoad(() => api(keysPath).then((page) => page.items), [keysPath]);
  const [dialog, setDialog] = useState(null);
  const close = () => { setDialog(null); reload(); };
  return html`<h2>Integrations</h2>
    <section aria-labelledby="public-api">
      <h3 id="public-api">Public API</h3>
      <p>Your systems call the public API with a key of this organization. A key is shown once, when it is generated or rolled.</p>
      ${canChange ? html`<p><button type="button" class="primary" onClick=${() => setDialog({ kind: 'generate' })}>Generate</button></p>` : null}
      ${keys ? html`<${KeyTable} keys=${keys} keysPath=${keysPath} canChange=${canChange} onDialog=${setDialog} onChanged=${reload} />` : html`<${Loading} error=${error} />`}
    </section>
    ${dialog?.kind === 'generate' ? html`<${GenerateDialog} keysPath=${keysPath} onClose=${close} />` : null}
    ${dialog?.kind === 'roll' ? html`<${RollDialog} keysPath=${keysPath} apiKey=${dialog.key} onClose=${close} />` : null}
    ${dialog?.kind === 'delete' ? html`<${DeleteDialog} keysPath=${keysPath} apiKey=${dialog.key} onClose=${close} />` : null}`;
}

// The server decides a key's state (its `state`); the console shows it.
function status(key) {
  return key.state;
}

function KeyTable({ keys, keysPath, canChange, onDialog, onChanged }) {
  if (keys.length === 0) return html`<p>This organization has no keys yet.</p>`;
  return html`<div class="scroll"><table>
    <caption class="visually-hidden">Public API keys</caption>
    <thead><tr>
      <th scope="col">Name</th><th scope="col">Key</th><th scope="col">Created</th><th scope="col">Created by</th>
      <th scope="col">Last used</th><th scope="col">Expires</th><th scope="col">Status</th>
      ${canChange ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : null}
    </tr></thead>
    <tbody>${keys.map((key) => html`<${KeyRow} key=${key.keyId} apiKey=${key} keysPath=${keysPath}
      canChange=${canChange} onDialog=${onDialog} onChanged=${onChanged} />`)}</tbody>
  </table></div>`;
}

function KeyRow({ apiKey, keysPath, canChange, onDialog, onChanged }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const toggle = async () => {
    setBusy(true);
    try {
      await api(`${keysPath}/${path(apiKey.keyId)}`, { method: 'PATCH', body: { enabled: !apiKey.enabled } });
      setError(null);
      onChanged();
    } catch (failure) {
      setError(failure);
    }
    setBusy(false);
  };
  return html`<tr>
    <th scope="row">${apiKey.name || html`<span class="muted">(no name)</span>`}</th>
    <td><code>${apiKey.hint}</code></td>
    <td class="when">${when(apiKey.createdAt)}</td>
    <td>${who(apiKey.createdBy)}</td>
    <td class="when">${when(apiKey.lastUsedAt)}</td>
    <td class="when">${apiKey.expiresAt ? when(apiKey.expiresAt) : 'Never'}</td>
    <td><span class=${`status ${status(apiKey)}`}>${status(apiKey)}</span></td>
    ${canChange ? html`<td class="row-actions">
      <button type="button" disabled=${busy} onClick=${toggle}>${apiKey.enabled ? 'Disable' : 'Enable'}</button>
      <button type="button" onClick=${() => onDialog({ kind: 'roll', key: apiKey })}>Roll</button>
      <button type="button" class="danger" onClick=${() => onDialog({ kind: 'delete', key: apiKey })}>Delete</button>
      <${Problem} error=${error} />
    </td>` : null}
  </tr>`;
}
