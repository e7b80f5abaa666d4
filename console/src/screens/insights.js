// Insights: requests this minute against each key's limit, contacts today
// against the daily quota, contacts per day over the last 30 days as an SVG
// chart (its y-axis fits the data; the quota is a line only when in range)
// whose text alternative is a visually hidden table, and the schedules with
// their IDs, as in Campaign summary.
import { html } from '../html.js';
import { api, path } from '../api.js';
import { Loading, useLoad } from '../ui.js';
import { WithOrganization } from './org-picker.js';
import { Schedules } from './reporting.js';

const DAYS = 30;

export function Insights({ me }) {
  return html`<h1>Insights</h1>
    <${WithOrganization} me=${me}>${(organization) => html`<${Usage} key=${organization.organizationId} organization=${organization} />`}<//>`;
}

function Usage({ organization }) {
  const [usage, error, reload] = useLoad(() => api(`/organizations/${path(organization.organizationId)}/usage?days=${DAYS}`), [organization.organizationId]);
  if (!usage) return html`<${Loading} error=${error} onRetry=${reload} />`;
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
    </section>
    <section aria-labelledby="schedules-heading">
      <h2 id="schedules-heading">Schedules</h2>
      <${Schedules} organization=${organization} />
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

const count = (value) => value.toLocaleString('en');

function Gauge({ label, value, max, unit }) {
  const share = max > 0 ? Math.min(1, value / max) : 0;
  return html`<div class="gauge">
    <p><strong>${label}</strong>: ${count(value)} of ${count(max)} ${unit}</p>
    <svg viewBox="0 0 100 6" preserveAspectRatio="none" aria-hidden="true" class="bar">
      <rect width="100" height="6" class="track" />
      <rect width=${share * 100} height="6" class=${share >= 0.9 ? 'fill high' : 'fill'} />
    </svg>
  </div>`;
}

/** A round top for the y-axis: 1, 2 or 5 times a power of ten, at least `value`. */
export function niceCeiling(value) {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((step) => step * power).find((top) => top >= value);
}

function Chart({ days, quota }) {
  const busiest = Math.max(0, ...days.map((d) => d.contacts));
  const top = niceCeiling(busiest);
  const width = 600;
  const height = 160;
  const left = 44;
  const step = (width - left) / days.length;
  const y = (value) => height - (value / top) * height + 6;
  const quotaShown = quota && quota <= top;
  return html`<figure class="chart">
    <svg viewBox=${`0 0 ${width} ${height + 28}`} role="img" aria-labelledby="chart-title">
      <title id="chart-title">Contacts per day over the last ${days.length} days; the table below has the numbers.</title>
      ${(top % 2 === 0 ? [0, top / 2, top] : [0, top]).map((tick) => html`<line x1=${left} x2=${width} y1=${y(tick)} y2=${y(tick)} class="grid" />
        <text x=${left - 6} y=${y(tick) + 4} text-anchor="end" class="axis">${count(tick)}</text>`)}
      ${quotaShown ? html`<line x1=${left} x2=${width} y1=${y(quota)} y2=${y(quota)} class="quota" />` : null}
      ${days.map((day, index) => {
        const barHeight = (day.contacts / top) * height;
        return html`<rect x=${left + index * step + 1} y=${y(day.contacts)} width=${Math.max(1, step - 2)} height=${barHeight} class="column" />`;
      })}
      <text x=${left} y=${height + 24} class="axis">${days[0].date}</text>
      <text x=${width} y=${height + 24} text-anchor="end" class="axis">${days[days.length - 1].date}</text>
    </svg>
    <figcaption>${busiest === 0 ? 'No contacts in these 30 days. ' : ''}${quotaShown
      ? `The dashed line marks the daily quota of ${count(quota)} contacts.`
      : quota ? `The daily quota is ${count(quota)} contacts, above this scale.` : 'No daily quota is set.'}</figcaption>
    <div class="visually-hidden">
      <table>
        <caption>Contacts per day</caption>
        <thead><tr><th scope="col">Date</th><th scope="col">Contacts</th></tr></thead>
        <tbody>${days.map((day) => html`<tr><th scope="row">${day.date}</th><td>${day.contacts}</td></tr>`)}</tbody>
      </table>
    </div>
  </figure>`;
}
