// Settings (with the user's authenticator app) and Settings → Organizations:
// the user's organization and every sub-organization, indented under its
// parent, each with "Edit" ("View" for a viewer); an admin creates a
// sub-organization with "New sub-organization".
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { all, api } from '../api.js';
import { href, go } from '../routes.js';
import { Dialog, Field, Loading, Problem, formProblem, useLoad } from '../ui.js';
import { mfa } from '../session.js';
import { AuthenticatorSection } from './authenticator.js';

/** Settings: the organizations, and the user's authenticator app when the pool has MFA. */
export function Settings({ me }) {
  return html`<h1>Settings</h1>
    <ul class="links">
      <li><a href=${href.organizations}>Organizations</a>: your organization and its sub-organizations, their users and public API keys.</li>
    </ul>
    ${mfa() ? html`<${AuthenticatorSection} me=${me} />` : null}`;
}

/** The organizations in tree order, each with its depth below the first. */
export function asTree(organizations) {
  const ids = new Set(organizations.map((o) => o.organizationId));
  const children = new Map();
  for (const organization of organizations) {
    const parent = ids.has(organization.parentId) ? organization.parentId : null;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(organization);
  }
  const ordered = [];
  const visit = (parent, depth) => {
    const below = (children.get(parent) || []).sort((a, b) => a.name.localeCompare(b.name));
    for (const organization of below) {
      ordered.push({ organization, depth });
      visit(organization.organizationId, depth + 1);
    }
  };
  visit(null, 0);
  return ordered;
}

export const loadOrganizations = () => all('/organizations');

export function Organizations({ me, canChange }) {
  const [organizations, error, reload] = useLoad(loadOrganizations, []);
  const [creating, setCreating] = useState(false);
  return html`<h1>Organizations</h1>
    ${canChange ? html`<p><button type="button" class="primary" onClick=${() => setCreating(true)}>New sub-organization</button></p>` : null}
    ${organizations ? html`<${OrganizationTable} organizations=${organizations} canChange=${canChange} />` : html`<${Loading} error=${error} onRetry=${reload} />`}
    ${creating ? html`<${NewSubOrganization} organizations=${organizations || []}
      onCancel=${() => setCreating(false)} onCreated=${() => { setCreating(false); reload(); }} />` : null}`;
}

function OrganizationTable({ organizations, canChange }) {
  return html`<table class="cards">
    <caption class="visually-hidden">Your organization and its sub-organizations</caption>
    <thead><tr><th scope="col">Name</th><th scope="col">ID</th><th scope="col">Parent</th><th scope="col">Status</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
    <tbody>${asTree(organizations).map(({ organization, depth }) => html`<tr key=${organization.organizationId}>
      <th scope="row" class=${`depth depth-${Math.min(depth, 5)}`}>${depth > 0 ? html`<span aria-hidden="true" class="branch">└ </span>` : null}${organization.name}</th>
      <td data-label="ID"><code>${organization.organizationId}</code></td>
      <td data-label="Parent">${organization.parentId || '—'}</td>
      <td data-label="Status"><span class=${`status ${organization.status}`}>${organization.status}</span></td>
      <td><button type="button" onClick=${() => go(href.organization(organization.organizationId))}>${canChange ? 'Edit' : 'View'}</button></td>
    </tr>`)}</tbody>
  </table>`;
}

function NewSubOrganization({ organizations, onCancel, onCreated }) {
  const [form, setForm] = useState({ name: '', parentId: organizations[0]?.organizationId || '' });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (name) => (event) => setForm({ ...form, [name]: event.currentTarget.value });
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    try {
      await api('/organizations', { method: 'POST', body: form });
      onCreated();
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };
  const fields = error?.fields || {};
  return html`<${Dialog} title="New sub-organization" onCancel=${onCancel}>
    <form onSubmit=${submit}>
      <${Problem} error=${formProblem(error, ['name', 'parentId'])} />
      <${Field} label="Name" error=${fields.name}
        hint="Its ID is made for you (org_…) and never changes.">${(attrs) => html`<input ...${attrs} required autofocus value=${form.name} onInput=${set('name')} />`}<//>
      <${Field} label="Parent" error=${fields.parentId}>${(attrs) => html`<select ...${attrs} value=${form.parentId} onChange=${set('parentId')}>
        ${asTree(organizations).map(({ organization, depth }) => html`<option value=${organization.organizationId}>${'\u00a0\u00a0'.repeat(depth)}${organization.name} (${organization.organizationId})</option>`)}
      </select>`}<//>
      <div class="actions">
        <button type="submit" class="primary" disabled=${busy}>Create</button>
        <button type="button" onClick=${onCancel}>Cancel</button>
      </div>
    </form>
  <//>`;
}
