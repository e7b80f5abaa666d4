// The one template tag of the console: htm bound to Preact's h, so markup is
// written as tagged templates (no JSX build step) and every interpolated
// value is a text node or a property, never parsed as HTML.
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);
