// The console's addresses: the part after # names the screen, so the static
// host serves one index.html and a reload keeps the screen.
import { useEffect, useState } from 'preact/hooks';

/** The current route: {screen, orgId?, tab?}. */
export function parse(hash) {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  switch (parts[0]) {
    case 'settings':
      return parts[1] === 'organizations' ? { screen: 'organizations' } : { screen: 'settings' };
    case 'organizations':
      return { screen: 'organization', orgId: parts[1], tab: parts[2] || 'details' };
    case 'reporting':
      return parts[1] === 'campaign-summary' ? { screen: 'campaign-summary' } : { screen: 'reporting' };
    case 'insights':
      return { screen: 'insights' };
    default:
      return { screen: 'home' };
  }
}

export const href = {
  settings: '#/settings',
  organizations: '#/settings/organizations',
  organization: (orgId, tab = 'details') => `#/organizations/${encodeURIComponent(orgId)}/${tab}`,
  reporting: '#/reporting',
  campaignSummary: '#/reporting/campaign-summary',
  insights: '#/insights',
};

export const go = (target) => { location.hash = target; };

/** The route, kept up to date with the address. */
export function useRoute() {
  const [route, setRoute] = useState(parse(location.hash));
  useEffect(() => {
    const update = () => setRoute(parse(location.hash));
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}
