// The frame of every screen: the sign-in state, the header (navigation and
// "Sign out") and the screen the address names. A viewer gets the same
// screens; `canChange` hides the buttons that change anything.
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { loadConfig, resume, signIn, signOut } from './session.js';
import { api, whenSignedOut } from './api.js';
import { useRoute, href } from './routes.js';
import { Problem } from './ui.js';
import { Settings, Organizations } from './screens/organizations.js';
import { OrganizationPage } from './screens/organization.js';
import { Reporting, CampaignSummary } from './screens/reporting.js';
import { Insights } from './screens/insights.js';

export function App() {
  const [state, setState] = useState({ phase: 'loading' });
  useEffect(() => {
    whenSignedOut((error) => setState({ phase: 'signed-out', error }));
    loadConfig()
      .then(resume)
      .then(async (signedIn) => {
        if (!signedIn) return setState({ phase: 'signed-out' });
        const me = await api('/me');
        setState({ phase: 'ready', me });
      })
      .catch((error) => setState({ phase: 'signed-out', error }));
  }, []);
  if (state.phase === 'loading') return html`<main><p role="status">Loading the console…</p></main>`;
  if (state.phase === 'signed-out') return html`<${Welcome} error=${state.error} />`;
  return html`<${Frame} me=${state.me} />`;
}

function Welcome({ error }) {
  return html`<main class="welcome">
    <h1>orgkeys console</h1>
    <p>Sign in to manage your organization's public API keys, find your schedule IDs and follow your usage.</p>
    <${Problem} error=${error} />
    <button type="button" class="primary" onClick=${signIn}>Sign in</button>
  </main>`;
}

const NAVIGATION = [
  ['Settings', href.settings, ['settings', 'organizations', 'organization']],
  ['Reporting', href.reporting, ['reporting', 'campaign-summary']],
  ['Insights', href.insights, ['insights']],
];

function Frame({ me }) {
  const route = useRoute();
  const canChange = me.role === 'org-admin';
  return html`<header class="top">
      <a class="brand" href="#/">orgkeys</a>
      <nav aria-label="Main">
        <ul>${NAVIGATION.map(([name, target, screens]) => html`<li>
          <a href=${target} aria-current=${screens.includes(route.screen) ? 'page' : undefined}>${name}</a>
        </li>`)}</ul>
      </nav>
      <div class="who">
        <p>${me.user.email || me.user.id}${me.role ? html` <span class="role">(${me.role === 'org-admin' ? 'admin' : 'viewer'})</span>` : null}</p>
        <button type="button" onClick=${signOut}>Sign out</button>
      </div>
    </header>
    <main id="main">${screen(route, me, canChange)}</main>`;
}

function screen(route, me, canChange) {
  if (!me.organizationId || !me.role) {
    return html`<h1>No organization</h1><p>Your account is not an admin or viewer of an organization yet. Ask your organization's admin to invite you.</p>`;
  }
  const props = { me, canChange, route };
  switch (route.screen) {
    case 'settings': return html`<${Settings} ...${props} />`;
    case 'organizations': return html`<${Organizations} ...${props} />`;
    case 'organization': return html`<${OrganizationPage} key=${route.orgId} ...${props} />`;
    case 'reporting': return html`<${Reporting} ...${props} />`;
    case 'campaign-summary': return html`<${CampaignSummary} ...${props} />`;
    case 'insights': return html`<${Insights} ...${props} />`;
    default: return html`<${Home} me=${me} canChange=${canChange} />`;
  }
}

function Home({ me, canChange }) {
  return html`<h1>Welcome</h1>
    <p>Signed in to organization <strong>${me.organizationId}</strong>.</p>
    <ul class="links">
      <li>${canChange
        ? html`<a href=${href.organizations}>Manage organizations</a> and their public API keys.`
        : html`<a href=${href.organizations}>View organizations</a>, their users and public API keys.`}</li>
      <li><a href=${href.campaignSummary}>Find schedule IDs</a> for outbound conversations.</li>
      <li><a href=${href.insights}>See usage</a> against your limits.</li>
    </ul>`;
}
