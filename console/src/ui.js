// Small shared pieces of the screens: the problem message, a labelled field
// with its error, dialogs on the native <dialog>, dates, and a hook that loads
// from the API with its error.
import { useEffect, useLayoutEffect, useRef, useState, useCallback } from 'preact/hooks';
import { html } from './html.js';
import { revocationSeconds } from './session.js';

/**
 * An API error's title and detail, announced where it happened; a network
 * failure offers "Retry" when the screen can (`onRetry`).
 */
export function Problem({ error, onRetry }) {
  if (!error) return null;
  return html`<div class="problem" role="alert">
    <strong>${error.title || 'Something went wrong'}</strong>
    ${error.detail || (!error.title && error.message) ? html` <span>${error.detail || error.message}</span>` : null}
    ${error.network && onRetry ? html` <button type="button" onClick=${onRetry}>Retry</button>` : null}
  </div>`;
}

/**
 * What a form shows above its fields: when every field error sits by its
 * field (`placed` names them), a pointer to them instead of the problem's
 * generic "failed validation".
 */
export function formProblem(error, placed) {
  const fields = Object.keys(error?.fields || {});
  if (fields.length > 0 && fields.every((field) => placed.includes(field))) {
    return { title: fields.length === 1 ? 'Check the field marked below.' : 'Check the fields marked below.' };
  }
  return error;
}

let fieldCount = 0;
/** A stable, unique element ID for a component's label and error. */
export function useId(prefix) {
  const ref = useRef(null);
  if (ref.current === null) ref.current = `${prefix}-${++fieldCount}`;
  return ref.current;
}

/** A labelled input; its error (from the API's field errors) sits under it. */
export function Field({ label, error, children, hint }) {
  const id = useId('field');
  const describedBy = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(' ') || undefined;
  return html`<div class="field">
    <label for=${id}>${label}</label>
    ${hint ? html`<p class="hint" id=${`${id}-hint`}>${hint}</p>` : null}
    ${children({ id, 'aria-describedby': describedBy, 'aria-invalid': error ? 'true' : undefined })}
    ${error ? html`<p class="field-error" id=${`${id}-error`}>${error}</p>` : null}
  </div>`;
}

/**
 * A modal dialog on the native <dialog>: it takes focus (the first element
 * marked autofocus, else the first control), keeps it inside (showModal makes
 * the rest of the page inert), gives it back to what had it on close, and
 * Escape does what "Cancel" does (`onCancel`).
 */
export function Dialog({ title, onCancel, children, wide }) {
  const ref = useRef(null);
  const unmounting = useRef(false);
  const titleId = useId('dialog-title');
  // Layout effects, so the dialog opens and focus returns in the same commit
  // as the dialog enters and leaves the page (passive cleanups wait a paint).
  useLayoutEffect(() => {
    const dialog = ref.current;
    const opener = document.activeElement;
    dialog.showModal();
    const first = dialog.querySelector('[autofocus]') || dialog.querySelector('input, select, textarea, button');
    if (first) first.focus();
    return () => {
      unmounting.current = true;
      if (dialog.open) dialog.close();
      if (opener && opener.isConnected) opener.focus();
    };
  }, []);
  const cancel = (event) => {
    event.preventDefault();
    onCancel();
  };
  // The browser may close a modal itself (a second Escape with no other
  // input in between ignores preventDefault): that is a Cancel too, and a
  // dialog that stays (a key not yet copied) opens again.
  const closed = () => {
    if (unmounting.current) return;
    onCancel();
    requestAnimationFrame(() => {
      if (!unmounting.current && ref.current && !ref.current.open) ref.current.showModal();
    });
  };
  return html`<dialog ref=${ref} aria-labelledby=${titleId} onCancel=${cancel} onClose=${closed} onKeyDown=${keepFocus}
    class=${wide ? 'wide' : ''}>
    <h2 id=${titleId}>${title}</h2>
    ${children}
  </dialog>`;
}

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * Tab past the last control comes back to the first, Shift+Tab past the
 * first to the last: showModal makes the page inert, but the browser would
 * otherwise let focus leave for its own toolbar.
 */
function keepFocus(event) {
  if (event.key !== 'Tab') return;
  const controls = [...event.currentTarget.querySelectorAll(FOCUSABLE)];
  if (controls.length === 0) return;
  const [first, last] = [controls[0], controls[controls.length - 1]];
  if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  } else if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  }
}

const dateTime = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: 'UTC' });
/** A timestamp in UTC, or an em dash for none. */
export const when = (timestamp) => (timestamp ? `${dateTime.format(new Date(timestamp))} UTC` : '—');

/** Who did something, from an actor or createdBy object. */
export const who = (actor) => {
  if (!actor) return '—';
  if (actor.email) return actor.email;
  if (actor.type === 'admin') return 'Platform operator';
  return actor.id || actor.type;
};

/**
 * Loads `load()` on mount and whenever `deps` change. Returns
 * [data, error, reload]; data is undefined while loading.
 */
export function useLoad(load, deps) {
  const [state, setState] = useState({ data: undefined, error: null });
  const reload = useCallback(() => {
    let live = true;
    setState((before) => (before.error ? { data: undefined, error: null } : before));
    load().then(
      (data) => live && setState({ data, error: null }),
      (error) => live && setState({ data: null, error }),
    );
    return () => { live = false; };
  }, deps);
  useEffect(reload, [reload]);
  return [state.data, state.error, reload];
}

/** A loading line or the load's problem (with "Retry" for `onRetry`). */
export function Loading({ error, onRetry }) {
  return error ? html`<${Problem} error=${error} onRetry=${onRetry} />` : html`<p role="status">Loading…</p>`;
}

/**
 * How soon a disabled or deleted key stops being accepted, from the
 * deployment's authorizer caches (config.json's revocationSeconds).
 */
export function revocationPhrase() {
  const seconds = revocationSeconds();
  if (seconds === null) return 'within a minute or so';
  if (seconds === 0) return 'at once';
  if (seconds < 120) return `within ${seconds} seconds`;
  return `within ${Math.ceil(seconds / 60)} minutes`;
}
