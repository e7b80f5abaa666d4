// Activity: the organization's audit events, newest first, a page at a time
// ("Load more"), each as a sentence ("admin@acme.example disabled key crm
// (orgk_…wecc)") with keys by name and hint, filtered by action (the API
// filters) and by who did it (among the events loaded).
import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { api, path } from '../api.js';
import { Loading, Problem, useLoad, when, who } from '../ui.js';

/** Events per page; the API's default and maximum are larger. */
export const PAGE = 20;

const ACTIONS = [
  ['', 'Every action'],
  ['api_key.created', 'Key generated'], ['api_key.updated', 'Key changed (disabled, enabled, renamed)'],
  ['api_key.rolled', 'Key rolled'], ['api_key.deleted', 'Key deleted'], ['api_key.leaked', 'Key reported leaked'],
  ['user.invited', 'User invited'], ['user.updated', 'User role changed'], ['user.removed', 'User removed'],
  ['organization.created', 'Organization created'], ['organization.updated', 'Organization changed'],
  ['organization.suspended', 'Organization suspended'], ['organization.resumed', 'Organization resumed'],
  ['organization.deleted', 'Organization deleted'],
  ['schedule.created', 'Schedule created'], ['schedule.updated', 'Schedule changed'], ['schedule.deleted', 'Schedule deleted'],
  ['dispatch.created', 'Conversations dispatched'],
];

export function Activity({ organization }) {
  const orgPath = `/organizations/${path(organization.organizationId)}`;
  const [action, setAction] = useState('');
  const [actor, setActor] = useState('');
  const [keys] = useLoad(() => api(`${orgPath}/api-keys`).then((page) => page.items).catch(() => []), [orgPath]);
  const eventsPath = `${orgPath}/audit-events?limit=${PAGE}${action ? `&action=${action}` : ''}`;
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
  useEffect(() => { setPages({ items: null, nextCursor: null }); load(null); }, [eventsPath]);
  const names = keyNames(keys || [], pages.items || []);
  const actors = [...new Set((pages.items || []).map((event) => who(event.actor)))].sort();
  const shown = (pages.items || []).filter((event) => !actor || who(event.actor) === actor);
  return html`<h2>Activity</h2>
    <div class="filters">
      <div class="field"><label for="activity-action">Action</label>
        <select id="activity-action" value=${action} onChange=${(e) => setAction(e.currentTarget.value)}>
          ${ACTIONS.map(([value, label]) => html`<option value=${value}>${label}</option>`)}</select></div>
      <div class="field"><label for="activity-actor">By</label>
        <select id="activity-actor" value=${actor} onChange=${(e) => setActor(e.currentTarget.value)}>
          <option value="">Anyone</option>
          ${actors.map((name) => html`<option value=${name}>${name}</option>`)}</select></div>
    </div>
    ${!pages.items ? html`<${Loading} error=${error} onRetry=${() => load(null)} />`
      : shown.length === 0 ? html`<p>${action || actor ? 'No events match these filters.' : 'Nothing has happened here yet.'}</p>`
      : html`<ol class="events" aria-label="Audit events, newest first">${shown.map((event) => html`<li key=${event.eventId}>
          <p>${sentence(event, names)}</p>
          <p class="muted when">${when(event.occurredAt)}</p>
        </li>`)}</ol>`}
    ${pages.items ? html`<${Problem} error=${error} onRetry=${() => load(pages.nextCursor)} />` : null}
    ${pages.nextCursor ? html`<p><button type="button" onClick=${() => load(pages.nextCursor)}>Load more</button>
      ${actor ? html` <span class="muted">The "By" filter applies to the events loaded so far.</span>` : null}</p>` : null}`;
}

/** Key names and hints by key ID: the current keys, and names events recorded. */
function keyNames(keys, events) {
  const names = new Map();
  for (const event of events) {
    if (event.target?.type === 'api-key' && event.details?.name) names.set(event.target.id, { name: event.details.name });
  }
  for (const key of keys) names.set(key.keyId, { name: key.name, hint: key.hint });
  return names;
}

function keyLabel(keyId, names) {
  const key = names.get(keyId);
  if (!key) return 'a key no longer listed';
  const name = key.name || '(no name)';
  return key.hint ? `${name} (${key.hint})` : name;
}

/** "who did what" for one event. */
export function sentence(event, names) {
  const by = who(event.actor);
  const details = event.details || {};
  const target = event.target || {};
  const key = () => `key ${keyLabel(target.id, names)}`;
  const role = (value) => (value === 'org-admin' ? 'admin' : value === 'org-viewer' ? 'viewer' : value);
  switch (event.action) {
    case 'api_key.created': return `${by} generated ${key()}`;
    case 'api_key.updated':
      if (details.enabled === false) return `${by} disabled ${key()}`;
      if (details.enabled === true) return `${by} enabled ${key()}`;
      return `${by} changed ${key()}${details.name ? ` (named ${details.name})` : ''}`;
    case 'api_key.rolled': return `${by} rolled ${key()}${details.successorKeyId ? ` to key ${keyLabel(details.successorKeyId, names)}` : ''}`;
    case 'api_key.deleted': return `${by} deleted ${key()}`;
    case 'api_key.leaked': return `${key()} was reported leaked${details.source ? ` by ${details.source}` : ''}`;
    case 'user.invited': return `${by} invited ${details.email || 'a user'}${details.role ? ` as ${role(details.role)}` : ''}`;
    case 'user.updated': return `${by} made ${details.email || 'a user'} ${role(details.role) || 'something else'}`;
    case 'user.removed': return `${by} removed ${details.email || 'a user'}`;
    case 'organization.updated':
      return details.name ? `${by} renamed the organization to ${details.name}` : `${by} changed the organization ${target.id}`;
    case 'dispatch.created': return `${by} dispatched ${details.contacts ?? 'some'} conversations on schedule ${details.scheduleId || target.id}`;
    default: {
      const [noun, verb] = event.action.split('.');
      return `${by} ${verb} ${noun === 'organization' ? 'the organization' : noun} ${target.id || ''}`.trim();
    }
  }
}
