// The organization a report is about: a select of the user's organizations,
// remembered while the page is open so Reporting and Insights agree.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { Field, Loading, useLoad } from '../ui.js';
import { asTree, loadOrganizations } from './organizations.js';

let remembered = null;

/** Renders the select and `children(organization)` for the one selected. */
export function WithOrganization({ me, children }) {
  const [organizations, error] = useLoad(loadOrganizations, []);
  const [selected, setSelected] = useState(remembered || me.organizationId);
  if (!organizations) return html`<${Loading} error=${error} />`;
  const choose = (event) => {
    remembered = event.currentTarget.value;
    setSelected(remembered);
  };
  const organization = organizations.find((o) => o.organizationId === selected) || organizations[0];
  return html`<div class="picker"><${Field} label="Organization">${(attrs) => html`<select ...${attrs}
      value=${organization?.organizationId} onChange=${choose}>
      ${asTree(organizations).map(({ organization: o, depth }) => html`<option value=${o.organizationId}>${'\u00a0\u00a0'.repeat(depth)}${o.name} (${o.organizationId})</option>`)}
    </select>`}<//></div>
    ${organization ? children(organization) : null}`;
}
