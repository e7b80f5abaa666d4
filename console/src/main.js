// The console's entry point: loads config.json, resumes or completes the
// sign-in, then renders the app. Nothing here runs inline in the page, so the
// content security policy can say script-src 'self'.
import { render } from 'preact';
import { html } from './html.js';
import { App } from './app.js';

render(html`<${App} />`, document.getElementById('app'));
