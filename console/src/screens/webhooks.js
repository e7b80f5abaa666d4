// Integrations → "Webhooks", below "Public API": the organization's
// endpoints, each with its state (enabled, or disabled and why), its event
// types and, for an admin, "Send test event", "Roll secret",
// "Disable"/"Enable" and "Delete"; under each, its delivery log ("Messages":
// status, every attempt, "Resend"). The dialogs are in webhook-dialogs.js.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { api, path } from '../api.js';
import { Loading, Problem, useLoad, when } from '../ui.js';
import { AddEndpointDialog, DeleteEndpointDialog, RollSecretDialog } from './webhook-dialogs.js';

export function Webhooks({ organization, canChange }) {
  const endpointsPath = `/organizations/${path(organization.organizationId)}/webhooks`;
  const [endpoints, error, reload] = useLoad(() => api(endpointsPath).then((page) => page.items), [endpointsPath]);
  const [dialog, setDialog] = useState(null);
  const close = () => { setDialog(null); reload(); };
  return html`<section aria-labelledby="webhooks">
      <h3 id="webhooks">Webhooks</h3>
      <p>Your systems hear about changes here (keys created, rolled or reported leaked, schedules changed, dispatches) as
        signed <code>POST</code> requests to an endpoint of yours. Each endpoint has a signing secret, shown once, to verify them.</p>
      ${canChange ? html`<p><button type="button" class="primary" onClick=${() => setDialog({ kind: 'add' })}>Add endpoint</button></p>` : null}
      ${endpoints ? html`<${EndpointList} endpoints=${endpoints} endpointsPath=${endpointsPath} canChange=${canChange}
          onDialog=${setDialog} onChanged=${reload} />`
        : html`<${Loading} error=${error} onRetry=${reload} />`}
    </section>
    ${dialog?.kind === 'add' ? html`<${AddEndpointDialog} endpointsPath=${endpointsPath} onChanged=${reload} onClose=${close} />` : null}
    ${dialog?.kind === 'roll' ? html`<${RollSecretDialog} endpointsPath=${endpointsPath} endpoint=${dialog.endpoint} onChanged=${reload} onClose=${close} />` : null}
    ${dialog?.kind === 'delete' ? html`<${DeleteEndpointDialog} endpointsPath=${endpointsPath} endpoint=${dialog.endpoint} onClose=${close} />` : null}`;
}

function EndpointList({ endpoints, endpointsPath, canChange, onDialog, onChanged }) {
  if (endpoints.length === 0) {
    return html`<p>No endpoints yet.${canChange ? ' "Add endpoint" registers the first one.' : ''}</p>`;
  }
  return html`<ul class="endpoints">${endpoints.map((endpoint) => html`<${EndpointCard} key=${endpoint.endpointId}
    endpoint=${endpoint} endpointPath=${`${endpointsPath}/${path(endpoint.endpointId)}`} canChange=${canChange}
    onDialog=${onDialog} onChanged=${onChanged} />`)}</ul>`;
}

function EndpointCard({ endpoint, endpointPath, canChange, onDialog, onChanged }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [said, setSaid] = useState('');
  const [logVersion, setLogVersion] = useState(0);
  const act = async (request, done) => {
    setBusy(true);
    try {
      const answer = await request();
      setError(null);
      setSaid(done(answer));
    } catch (failure) {
      setError(failure);
      setSaid('');
    }
    setBusy(false);
  };
  const toggle = () => act(
    () => api(endpointPath, { method: 'PATCH', body: { enabled: !endpoint.enabled } }).then(onChanged),
    () => (endpoint.enabled ? 'Disabled: nothing is sent to it until it is enabled.' : 'Enabled.'),
  );
  const sendTest = () => act(
    () => api(`${endpointPath}/test`, { method: 'POST' }),
    (answer) => { setLogVersion((v) => v + 1); return `Test event queued as ${answer.messageId}.`; },
  );
  const titleId = `endpoint-${endpoint.endpointId}`;
  return html`<li><article class="endpoint" aria-labelledby=${titleId}>
    <h4 id=${titleId}><code>${endpoint.url}</code></h4>
    ${endpoint.description ? html`<p>${endpoint.description}</p>` : null}
    <dl class="facts">
      <dt>Status</dt>
      <dd>${endpoint.enabled
        ? html`<span class="status active">enabled</span>${endpoint.failingSince ? html` <span class="muted">failing since ${when(endpoint.failingSince)}</span>` : null}`
        : html`<span class="status disabled">disabled</span> <span>${endpoint.disabledReason || ''}</span>`}</dd>
      <dt>Events</dt>
      <dd>${endpoint.eventTypes ? endpoint.eventTypes.map((type) => html`<code class="scope">${type}</code> `) : 'All event types'}</dd>
      <dt>Sub-organizations</dt>
      <dd>${endpoint.includeSubOrganizations ? 'Their events too' : 'Not included'}</dd>
      <dt>Created</dt>
      <dd>${when(endpoint.createdAt)}</dd>
      ${endpoint.previousSecretExpiresAt ? html`<dt>Previous secret</dt><dd>also signs until ${when(endpoint.previousSecretExpiresAt)}</dd>` : null}
    </dl>
    ${canChange ? html`<div class="row-actions">
      <button type="button" disabled=${busy || !endpoint.enabled} onClick=${sendTest}>Send test event</button>
      <button type="button" onClick=${() => onDialog({ kind: 'roll', endpoint })}>Roll secret</button>
      <button type="button" disabled=${busy} onClick=${toggle}>${endpoint.enabled ? 'Disable' : 'Enable'}</button>
      <button type="button" class="danger" onClick=${() => onDialog({ kind: 'delete', endpoint })}>Delete</button>
    </div>` : null}
    <p role="status" class="muted">${said}</p>
    <${Problem} error=${error} />
    <${Messages} endpointPath=${endpointPath} url=${endpoint.url} canChange=${canChange && endpoint.enabled} version=${logVersion} />
  </article></li>`;
}

/** The delivery log, loaded when opened (and again after a test or a resend). */
function Messages({ endpointPath, url, canChange, version }) {
  const [open, setOpen] = useState(false);
  return html`<details class="messages" onToggle=${(e) => setOpen(e.currentTarget.open)}>
    <summary>Messages</summary>
    ${open ? html`<${MessageLog} endpointPath=${endpointPath} url=${url} canChange=${canChange} version=${version} />` : null}
  </details>`;
}

function MessageLog({ endpointPath, url, canChange, version }) {
  const [messages, error, reload] = useLoad(
    () => api(`${endpointPath}/messages?limit=20`).then((page) => page.items),
    [endpointPath, version],
  );
  if (!messages) return html`<${Loading} error=${error} onRetry=${reload} />`;
  const refresh = html`<p><button type="button" onClick=${reload}>Refresh</button></p>`;
  if (messages.length === 0) return html`<p>No messages yet.${canChange ? ' "Send test event" sends one.' : ''}</p>${refresh}`;
  return html`${refresh}
    <div class="scroll" role="region" aria-label=${`Messages to ${url}`} tabindex="0"><table class="cards messages-table">
      <caption class="visually-hidden">${`Messages to ${url}`}</caption>
      <thead><tr>
        <th scope="col">Message</th><th scope="col">Event</th><th scope="col">Created</th><th scope="col">Status</th>
        <th scope="col">Attempts</th>
        ${canChange ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : null}
      </tr></thead>
      <tbody>${messages.map((message) => html`<${MessageRow} key=${message.messageId} message=${message}
        endpointPath=${endpointPath} canChange=${canChange} onResent=${reload} />`)}</tbody>
    </table></div>`;
}

function MessageRow({ message, endpointPath, canChange, onResent }) {
  const [error, setError] = useState(null);
  const [said, setSaid] = useState('');
  const resend = async () => {
    try {
      await api(`${endpointPath}/messages/${path(message.messageId)}/resend`, { method: 'POST' });
      setError(null);
      setSaid('Resent: one attempt now, with the same webhook-id.');
      onResent();
    } catch (failure) {
      setError(failure);
    }
  };
  const state = { delivered: 'active', failed: 'disabled' }[message.status] || 'pending';
  return html`<tr>
    <th scope="row"><code>${message.messageId}</code></th>
    <td data-label="Event"><code>${message.eventType}</code></td>
    <td data-label="Created" class="when">${when(message.createdAt)}</td>
    <td data-label="Status"><span class=${`status ${state}`}>${message.status}</span>${message.nextAttemptAt
      ? html`<span class="lineage">next attempt ${when(message.nextAttemptAt)}</span>` : null}</td>
    <td data-label="Attempts">${message.attempts.length === 0 ? 'None yet' : html`<ol class="attempts">
      ${message.attempts.map((attempt) => html`<li>${`${when(attempt.at)}: ${attempt.statusCode ?? 'no answer'} (${attempt.durationMs} ms)`}${attempt.error
        ? html` <span class="muted">${attempt.error}</span>` : null}</li>`)}
    </ol>`}</td>
    ${canChange ? html`<td class="row-actions">
      <button type="button" onClick=${resend}>Resend</button>
      <span role="status">${said}</span>
      <${Problem} error=${error} />
    </td>` : null}
  </tr>`;
}
