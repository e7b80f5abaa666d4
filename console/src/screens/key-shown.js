// A new key, shown once, and what to do next with it: the read-only
// "API key" textbox in a monospace font (two lines, so a phone shows it whole), "Copy" (a copy by hand counts too),
// the API's base URL, a curl example with its own "Copy", and a link to the
// API reference. The plaintext key lives only in this dialog's state: it is
// gone from the page when the dialog closes.
import { useLayoutEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { apiReferenceUrl, apiUrl } from '../session.js';
import { Dialog, Field, Problem, when } from '../ui.js';

/**
 * "Close" closes at once after a copy and otherwise first says the key
 * cannot be shown again ("Close anyway"). Leaving the page asks first.
 */
export function KeyShown({ title, created, replaces, onClose }) {
  const [copied, setCopied] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [copyError, setCopyError] = useState(null);
  const [exampleCopied, setExampleCopied] = useState('');
  // A layout effect: Preact runs passive effects' cleanups after the next
  // paint, and leaving must stop asking the moment the key leaves the page.
  useLayoutEffect(() => {
    const ask = (event) => { event.preventDefault(); event.returnValue = ''; };
    addEventListener('beforeunload', ask);
    return () => removeEventListener('beforeunload', ask);
  }, []);
  const markCopied = () => {
    setCopied(true);
    setConfirming(false);
  };
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.apiKey);
      markCopied();
    } catch {
      setCopyError({ title: 'Could not copy', detail: 'Select the key and copy it yourself.' });
    }
  };
  const example = `curl -H "Authorization: Bearer $ORGKEYS_API_KEY" ${apiUrl()}/v1/schedules`;
  const copyExample = async () => {
    try {
      await navigator.clipboard.writeText(example);
      setExampleCopied('Example copied.');
    } catch {
      setExampleCopied('Could not copy: select the example and copy it yourself.');
    }
  };
  const cancel = () => (copied || confirming ? onClose() : setConfirming(true));
  const reference = apiReferenceUrl();
  return html`<${Dialog} title=${title} onCancel=${cancel} wide>
    <${Field} label="API key">${(attrs) => html`<textarea ...${attrs} class="secret" readonly rows="2" value=${created.apiKey}
      autofocus onFocus=${(e) => e.currentTarget.select()} onCopy=${markCopied} spellcheck="false" autocomplete="off" />`}<//>
    <p>${created.expiresAt
      ? `It works until ${when(created.expiresAt)}, unless it is disabled or deleted first.`
      : 'It will remain valid for your organization until it is deleted.'}
      ${replaces ? html` It replaces <code>${replaces.hint}</code>, which keeps working for the period you chose.` : null}</p>
    <${Problem} error=${copyError} />
    <p role="status" class="copied">${copied ? 'Copied to the clipboard.' : ''}</p>
    ${confirming ? html`<p class="warning" role="alert"><strong>You have not copied the key.</strong> It cannot be shown again: once closed, only a new key will do.</p>` : null}
    <div class="actions">
      <button type="button" class="primary" onClick=${copy}>Copy</button>
      ${confirming
        ? html`<button type="button" class="danger" onClick=${onClose}>Close anyway</button>`
        : html`<button type="button" onClick=${cancel}>Close</button>`}
    </div>
    <section class="next" aria-labelledby="next-steps">
      <h3 id="next-steps">Next: call the API</h3>
      <p>Base URL <code>${apiUrl()}</code>. Send the key as <code>Authorization: Bearer</code> with each request; scopes
        ${created.scopes.map((scope) => html` <code>${scope}</code>`)}.</p>
      <p>With the key in <code>ORGKEYS_API_KEY</code>, list your schedules:</p>
      <pre class="example" tabindex="0" aria-label="curl example"><code>${example}</code></pre>
      <p><button type="button" onClick=${copyExample}>Copy example</button> <span role="status">${exampleCopied}</span></p>
      ${reference ? html`<p><a href=${reference} target="_blank" rel="noopener">API reference</a>: every route, its scopes and errors.</p>` : null}
    </section>
  <//>`;
}
