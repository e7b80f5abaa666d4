// The organization page: tabs "Details", "Integrations", "Users",
// "Activity" (WAI-ARIA tabs: arrow keys move between them), the tab in the
// address so a reload or a link keeps it.
import { useRef } from 'preact/hooks';
import { html } from '../html.js';
import { api, path } from '../api.js';
import { href, go } from '../routes.js';
import { Loading, useLoad } from '../ui.js';
import { Details } from './details.js';
import { Integrations } from './keys.js';
import { Users } from './users.js';
import { Activity } from './activity.js';

const TABS = [
  ['details', 'Details', Details],
  ['integrations', 'Integrations', Integrations],
  ['users', 'Users', Users],
  ['activity', 'Activity', Activity],
];

export function OrganizationPage({ route, me, canChange }) {
  const [organization, error, reload] = useLoad(() => api(`/organizations/${path(route.orgId)}`), [route.orgId]);
  if (!organization) {
    return html`<h1>Organization</h1><p><a href=${href.organizations}>Back to organizations</a></p><${Loading} error=${error} />`;
  }
  const selected = TABS.find(([id]) => id === route.tab) || TABS[0];
  const [tabId, , Panel] = selected;
  return html`<p class="crumbs"><a href=${href.organizations}>Organizations</a></p>
    <h1>${organization.name}</h1>
    <${TabList} orgId=${organization.organizationId} selected=${tabId} />
    <div role="tabpanel" id="tab-panel" aria-labelledby=${`tab-${tabId}`} tabindex="0">
      <${Panel} organization=${organization} me=${me} canChange=${canChange} onChanged=${reload} />
    </div>`;
}

function TabList({ orgId, selected }) {
  const list = useRef(null);
  const select = (id) => go(href.organization(orgId, id));
  const onKeyDown = (event) => {
    const index = TABS.findIndex(([id]) => id === selected);
    const moves = { ArrowRight: 1, ArrowLeft: -1, Home: -index, End: TABS.length - 1 - index };
    if (!(event.key in moves)) return;
    event.preventDefault();
    const next = (index + moves[event.key] + TABS.length) % TABS.length;
    select(TABS[next][0]);
    requestAnimationFrame(() => list.current?.querySelector(`#tab-${TABS[next][0]}`)?.focus());
  };
  return html`<div role="tablist" aria-label="Organization" class="tabs" ref=${list} onKeyDown=${onKeyDown}>
    ${TABS.map(([id, name]) => html`<button type="button" role="tab" id=${`tab-${id}`}
      aria-selected=${id === selected ? 'true' : 'false'} aria-controls="tab-panel"
      tabindex=${id === selected ? 0 : -1} onClick=${() => select(id)}>${name}</button>`)}
  </div>`;
}
