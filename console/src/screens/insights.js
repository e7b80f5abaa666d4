// Insights: requests this minute against each key's limit, contacts today
// against the daily quota, and contacts per day over the last 30 days as an
// SVG chart whose text alternative is a visually hidden table.
import { html } from '../html.js';
import { api, path } from '../api.js';
import { Loading, useLoad } from '../ui.js';
import { WithOrganization } from './org-picker.js';

const DAYS = 30;

export function Insights({ me }) {
  return html`<h1>Insights</h1>
    <${WithOrganization} me=${me}>${(organization) => html`<${Usage} key=${organization.organizationId} organization=${organization} />`}<//>`;
}

function Usage({ organization }) {
  const [usage, error] = useLoad(() => api(`/organizations/${path(organization.organizationId)}/usage?days=${DAYS}`), [organization.organizationId]);
  if (!usage) return html`<${Loading} error=${error} />`;
  const days = lastDays(usage.items);
  const today = days[days.length - 1];
  return html`<section aria-labelledby="now-heading">
      <h2 id="now-heading">Requests this minute</h2>
      ${usage.keys.length === 0 ? html`<p>No keys yet.</p>` : html`<ul class="gauges">
        ${usage.keys.map((key) => html`<li key=${key.keyId}><${Gauge} label=${key.name || key.keyId}
          value=${key.requestsThisMinute} max=${key.requestsPerMinute} unit="requests" /></li>`)}
      </ul>`}
    </section>
    <section aria-labelledby="today-heading">
      <h2 id="today-heading">Contacts today</h2>
      <${Gauge} label="Contacts today" value=${today.contacts} max=${usage.limits.contactsPerDay} unit="contacts" />
    </section>
    <section aria-labelledby="chart-heading">
      <h2 id="chart-heading">Contacts per day, last ${DAYS} days</h2>
      <${Chart} days=${days} quota=${usage.limits.contactsPerDay} />
    </section>`;
}

/** The last DAYS days, oldest first, with 0 for a day the API has no row for. */
function lastDays(items) {
  const byDate = new Map(items.map((item) => [item.date, item]));
  const days = [];
  const now = new Date();
  for (let back = DAYS - 1; back >= 0; back -= 1) {
    const date = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - back)).toISOString().slice(0, 10);
    days.push({ date, contacts: byDate.get(date)?.contacts || 0 });
  }
  return days;
}

function Gauge({ label, value, max, unit }) {
  const share = max > 0 ? Math.min(1, value / max) : 0;
  return html`<div class="gauge">
    <p><strong>${label}</strong>: ${value} of ${max} ${unit}</p>
    <svg viewBox="0 0 100 6" preserveAspectRatio="none" aria-hidden="true" class="bar">
      <rect width="100" height="6" class="track" />
      <rect width=${share * 100} height="6" class=${share >= 0.9 ? 'fill high' : 'fill'} />
    </svg>
  </div>`;
}

function Chart({ days, quota }) {
  const peak = Math.max(1, quota || 0, ...days.map((d) => d.contacts));
  const width = 600;
  const height = 160;
  const step = width / days.length;
  return html`<figure class="chart">
    <svg viewBox=${`0 0 ${width} ${height + 20}`} role="img" aria-labelledby="chart-title">
      <title id="chart-title">Contacts per day over the last ${days.length} days; the table below has the numbers.</title>
      ${quota ? html`<line x1="0" x2=${width} y1=${height - (quota / peak) * height} y2=${height - (quota / peak) * height} class="quota" />` : null}
      ${days.map((day, index) => {
        const barHeight = (day.contacts / peak) * height;
        return html`<rect x=${index * step + 2} y=${height - barHeight} width=${step - 4} height=${barHeight} class="column" />`;
      })}
      <text x="0" y=${height + 16} class="axis">${days[0].date}</text>
      <text x=${width} y=${height + 16} text-anchor="end" class="axis">${days[days.length - 1].date}</text>
    </svg>
    <figcaption>The line marks the daily quota of ${quota} contacts.</figcaption>
    <table class="visually-hidden">
      <caption>Contacts per day</caption>
      <thead><tr><th scope="col">Date</th><th scope="col">Contacts</th></tr></thead>
      <tbody>${days.map((day) => html`<tr><th scope="row">${day.date}</th><td>${day.contacts}</td></tr>`)}</tbody>
    </table>
  </figure>`;
}
