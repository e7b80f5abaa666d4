// Reporting → "Campaign summary": the schedules of the selected
// organization, each with the schedule ID an outbound conversation needs and
// "Copy schedule ID". Insights shows the same table.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { all, path } from '../api.js';
import { href } from '../routes.js';
import { Loading, useLoad } from '../ui.js';
import { WithOrganization } from './org-picker.js';

export function Reporting() {
  return html`<h1>Reporting</h1>
    <ul class="links">
      <li><a href=${href.campaignSummary}>Campaign summary</a>: your campaigns' schedules and the schedule IDs outbound conversations need.</li>
    </ul>`;
}

export function CampaignSummary({ me }) {
  return html`<p class="crumbs"><a href=${href.reporting}>Reporting</a></p>
    <h1>Campaign summary</h1>
    <${WithOrganization} me=${me}>${(organization) => html`<${Schedules} key=${organization.organizationId} organization=${organization} />`}<//>`;
}

/** The organization's schedules with their IDs, or where schedules come from. */
export function Schedules({ organization }) {
  const [schedules, error, reload] = useLoad(() => all(`/organizations/${path(organization.organizationId)}/schedules`), [organization.organizationId]);
  if (!schedules) return html`<${Loading} error=${error} onRetry=${reload} />`;
  if (schedules.length === 0) {
    return html`<div class="empty">
      <p><strong>${organization.name} has no schedules yet.</strong></p>
      <p>Schedules come from your organization's campaigns on the conversations platform: each campaign's schedule appears here, with the schedule ID an outbound conversation needs.
        Ask your platform contact to set up a campaign with a schedule for ${organization.name} (<code>${organization.organizationId}</code>).</p>
    </div>`;
  }
  return html`<table class="cards">
    <caption class="visually-hidden">Schedules of ${organization.name}</caption>
    <thead><tr><th scope="col">Schedule ID</th><th scope="col">Name</th><th scope="col">Campaign</th>
      <th scope="col">Channel</th><th scope="col">Status</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
    <tbody>${schedules.map((schedule) => html`<${ScheduleRow} key=${schedule.scheduleId} schedule=${schedule} />`)}</tbody>
  </table>`;
}

function ScheduleRow({ schedule }) {
  const [copied, setCopied] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(schedule.scheduleId);
      setCopied('Copied.');
    } catch {
      setCopied('Could not copy: select the ID and copy it yourself.');
    }
  };
  return html`<tr>
    <th scope="row"><code>${schedule.scheduleId}</code></th>
    <td data-label="Name">${schedule.name}</td>
    <td data-label="Campaign">${schedule.campaign || '—'}</td>
    <td data-label="Channel">${schedule.channel || '—'}</td>
    <td data-label="Status"><span class=${`status ${schedule.status}`}>${schedule.status}</span></td>
    <td><button type="button" onClick=${copy}>Copy schedule ID</button> <span role="status">${copied}</span></td>
  </tr>`;
}
