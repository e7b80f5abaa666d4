// Users: the organization's users; an admin invites ("Invite user": email,
// role), changes a role and removes ("Remove", confirmed in a dialog).
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { api, path } from '../api.js';
import { Dialog, Field, Loading, Problem, formProblem, useLoad, when } from '../ui.js';

const ROLES = [['org-admin', 'Admin'], ['org-viewer', 'Viewer']];

export function Users({ organization, me, canChange }) {
  const usersPath = `/organizations/${path(organization.organizationId)}/users`;
  const [users, error, reload] = useLoad(() => api(usersPath).then((page) => page.items), [usersPath]);
  const [removing, setRemoving] = useState(null);
  return html`<h2>Users</h2>
    ${canChange ? html`<${InviteForm} usersPath=${usersPath} onInvited=${reload} />` : null}
    ${users && users.length === 0 ? html`<p class="empty">No one has been invited to ${organization.name} yet.
      ${canChange ? ' Invite a colleague above: they get an email with a temporary password and choose their own on first sign-in.'
        : ' An admin of this organization invites users.'}</p>`
    : users ? html`<table class="cards">
      <caption class="visually-hidden">Users of this organization</caption>
      <thead><tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Since</th>
        ${canChange ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : null}</tr></thead>
      <tbody>${users.map((user) => html`<${UserRow} key=${user.userId} user=${user} usersPath=${usersPath}
        self=${user.userId === me.user.id} canChange=${canChange} onRemove=${setRemoving} onChanged=${reload} />`)}</tbody>
    </table>` : html`<${Loading} error=${error} onRetry=${reload} />`}
    ${removing ? html`<${RemoveDialog} user=${removing} usersPath=${usersPath}
      onClose=${() => { setRemoving(null); reload(); }} />` : null}`;
}

function InviteForm({ usersPath, onInvited }) {
  const [form, setForm] = useState({ email: '', role: 'org-viewer' });
  const [error, setError] = useState(null);
  const [sent, setSent] = useState('');
  const invite = async (event) => {
    event.preventDefault();
    try {
      await api(usersPath, { method: 'POST', body: form });
      setSent(`Invitation sent to ${form.email}.`);
      setError(null);
      setForm({ ...form, email: '' });
      onInvited();
    } catch (failure) {
      setError(failure);
      setSent('');
    }
  };
  const fields = error?.fields || {};
  return html`<form onSubmit=${invite} class="inline-form" aria-labelledby="invite-heading">
    <h3 id="invite-heading">Invite a user</h3>
    <${Problem} error=${formProblem(error, ['email', 'role'])} />
    <${Field} label="Email" error=${fields.email}>${(attrs) => html`<input ...${attrs} type="email" required value=${form.email}
      onInput=${(e) => setForm({ ...form, email: e.currentTarget.value })} />`}<//>
    <${Field} label="Role" error=${fields.role}>${(attrs) => html`<select ...${attrs} value=${form.role}
      onChange=${(e) => setForm({ ...form, role: e.currentTarget.value })}>
      ${ROLES.map(([value, label]) => html`<option value=${value}>${label}</option>`)}</select>`}<//>
    <button type="submit" class="primary">Invite user</button>
    <span role="status">${sent}</span>
  </form>`;
}

function UserRow({ user, usersPath, self, canChange, onRemove, onChanged }) {
  const [error, setError] = useState(null);
  const changeRole = async (event) => {
    try {
      await api(`${usersPath}/${path(user.userId)}`, { method: 'PATCH', body: { role: event.currentTarget.value } });
      setError(null);
      onChanged();
    } catch (failure) {
      setError(failure);
    }
  };
  const role = ROLES.find(([value]) => value === user.role)?.[1] || user.role;
  return html`<tr>
    <th scope="row">${user.email}${self ? ' (you)' : ''}</th>
    <td data-label="Role">${canChange && !self
      ? html`<select aria-label=${`Role of ${user.email}`} value=${user.role} onChange=${changeRole}>
          ${ROLES.map(([value, label]) => html`<option value=${value}>${label}</option>`)}</select>`
      : role}</td>
    <td data-label="Status">${user.status}</td>
    <td data-label="Since">${when(user.createdAt)}</td>
    ${canChange ? html`<td>${self ? null : html`<button type="button" class="danger" onClick=${() => onRemove(user)}>Remove</button>`}
      <${Problem} error=${error} /></td>` : null}
  </tr>`;
}

function RemoveDialog({ user, usersPath, onClose }) {
  const [error, setError] = useState(null);
  const remove = async () => {
    try {
      await api(`${usersPath}/${path(user.userId)}`, { method: 'DELETE' });
      onClose();
    } catch (failure) {
      setError(failure);
    }
  };
  return html`<${Dialog} title="Remove this user?" onCancel=${onClose}>
    <p><strong>${user.email}</strong> will no longer be able to sign in to this organization.</p>
    <${Problem} error=${error} />
    <div class="actions">
      <button type="button" class="danger" onClick=${remove}>Remove</button>
      <button type="button" autofocus onClick=${onClose}>Cancel</button>
    </div>
  <//>`;
}
