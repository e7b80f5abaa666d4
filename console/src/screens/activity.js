// Activity: the organization's audit events, newest first, a page at a
// time ("Load more").
import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { api, path } from '../api.js';
import { Loading, Problem, when, who } from '../ui.js';

export function Activity({ organization }) {
  const eventsPath = `/organizations/${path(organization.organizationId)}/audit-events?limit=25`;
  const [pages, setPages] = useState({ items: null, nextCursor: null });
  const [error, setError] = useState(null);
  const load = async (cursor) => {
    try {
      const page = await api(cursor ? `${eventsPath}&cursor=${encodeURIComponent(cursor)}` : eventsPath);
      setPages((before) => ({ items: [...(cursor ? before.items : []), ...page.items], nextCursor: page.nextCursor }));
      setError(null);
    } catch (failure) {
      setError(failure);
    }
  };
  useEffect(() => { load(null); }, [eventsPath]);
  if (!pages.items) return html`<h2>Activity</h2><${Loading} error=${error} />`;
  return html`<h2>Activity</h2>
    ${pages.items.length === 0 ? html`<p>Nothing has happened here yet.</p>` : html`<div class="scroll"><table>
      <caption class="visually-hidden">Audit events, newest first</caption>
      <thead><tr><th scope="col">When</th><th scope="col">Action</th><th scope="col">By</th><th scope="col">Target</th></tr></thead>
      <tbody>${pages.items.map((event) => html`<tr key=${event.eventId}>
        <td class="when">${when(event.occurredAt)}</td>
        <th scope="row"><code>${event.action}</code></th>
        <td>${who(event.actor)}</td>
        <td>${event.target ? `${event.target.type} ${event.target.id}` : '—'}</td>
      </tr>`)}</tbody>
    </table></div>`}
    <${Problem} error=${error} />
    ${pages.nextCursor ? html`<p><button type="button" onClick=${() => load(pages.nextCursor)}>Load more</button></p>` : null}`;
}
