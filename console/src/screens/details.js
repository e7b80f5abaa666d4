// Details: the name (an admin edits it, "Save"), ID, parent, status and the
// limits, which only a platform operator changes.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { api, path } from '../api.js';
import { Field, Problem, formProblem } from '../ui.js';

export function Details({ organization, canChange, onChanged }) {
  return html`<h2>Details</h2>
    ${canChange ? html`<${NameForm} organization=${organization} onChanged=${onChanged} />` : null}
    <dl class="facts">
      ${canChange ? null : html`<dt>Name</dt><dd>${organization.name}</dd>`}
      <dt>ID</dt><dd><code>${organization.organizationId}</code></dd>
      <dt>Parent</dt><dd>${organization.parentId || '—'}</dd>
      <dt>Status</dt><dd><span class=${`status ${organization.status}`}>${organization.status}</span></dd>
      <dt>Requests per minute</dt><dd>${organization.limits?.requestsPerMinute ?? '—'}</dd>
      <dt>Contacts per day</dt><dd>${organization.limits?.contactsPerDay ?? '—'}</dd>
    </dl>
    <p class="muted">Status and limits are set by the platform's operators.</p>`;
}

function NameForm({ organization, onChanged }) {
  const [name, setName] = useState(organization.name);
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(false);
  const save = async (event) => {
    event.preventDefault();
    try {
      await api(`/organizations/${path(organization.organizationId)}`, { method: 'PATCH', body: { name } });
      setError(null);
      setSaved(true);
      onChanged();
    } catch (failure) {
      setError(failure);
      setSaved(false);
    }
  };
  return html`<form onSubmit=${save} class="inline-form">
    <${Problem} error=${formProblem(error, ['name'])} />
    <${Field} label="Name" error=${error?.fields?.name}>${(attrs) => html`<input ...${attrs} required value=${name}
      onInput=${(e) => { setName(e.currentTarget.value); setSaved(false); }} />`}<//>
    <button type="submit" class="primary">Save</button>
    <span role="status">${saved ? 'Saved.' : ''}</span>
  </form>`;
}
