// The web console on the local gateway in headless Chromium, walking the help
// article's journey with role-and-name locators, as a screen reader finds
// things: sign in, Settings → Organizations → Edit (a sub-organization) →
// Integrations → Generate → the warning → Generate → Copy (read back from
// the clipboard) → Cancel; the copied key then answers 200 on
// GET /v1/schedules and Reporting shows the schedule IDs. Then the other
// paths: "Close anyway", Roll, Disable, Delete, Users (invite, role,
// remove), a new sub-organization, a name that is markup, keyboard-only
// generation and a viewer invited in the console (the temporary password
// from the gateway's /local/outbox, a New password on first sign-in, then an
// authenticator app set up in Settings, its QR code read back by jsQR, and
// its code at the next sign-in computed by the otpauth library; a wrong code
// refused), and what
// issue 29 asked of a console for customers (choices when generating, what to
// do next, search, Activity's sentences and pages, empty states, Retry, an
// ended session, sign-out revoking), and Integrations → Webhooks (add an
// endpoint, its secret shown once, a test event delivered to a receiver on
// loopback and resent, disable, roll the secret, delete). Every screen is checked at 1280×800 and
// 390×844, light and dark (no sideways scrolling, axe-core 0 violations, a
// screenshot in target/console-screenshots/). Run by scripts/browser-test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { env, launch } from './support.mjs';
import { API, CONSOLE, SHOTS, admin, check, dialogGone, rowOf } from './console-harness.mjs';

const require = createRequire(import.meta.url);
// The authenticator app's side: TOTP codes from a library, not the gateway's.
const OTPAuth = require('otpauth');
const jsQR = require('jsqr');

const ADMIN = { email: 'admin@acme.example', password: env('DEMO_PASSWORD') };
const SUB_ORG = 'acme-emea';
const SUB_ORG_NAME = 'Acme EMEA';
const SCHEDULE = 'console-spring-renewals';
const MARKUP = '<img src=x onerror=alert(1)>';
// Names this run makes, unique so a rerun against the same gateway finds its own.
const RUN = Date.now().toString(36);
// Every scope the API reference names gets its checkbox.
const REFERENCE = JSON.parse(readFileSync(env('OPENAPI_JSON'), 'utf8'));
const SCOPES = REFERENCE.components.schemas.Scope.enum;
// Every event type the API reference names gets its checkbox too.
const EVENT_TYPES = REFERENCE.components.schemas.WebhookEventType.enum;
const KEY = `browser-test-${RUN}`;
const KEYBOARD_KEY = `keyboard-${RUN}`;
const NEW_ORG_NAME = 'Acme Nordics';
// The ID the server makes for the new sub-organization.
let newOrg;

async function signIn(page, { email, password }) {
  await page.goto(CONSOLE);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('textbox', { name: 'Email' }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** A code that is none of `app`'s from two steps before now to two after. */
function wrongCode(app) {
  for (let n = 0; ; n += 1) {
    const token = String(n).padStart(6, '0');
    if (app.validate({ token, window: 2 }) === null) return token;
  }
}

/**
 * The text of the QR code `image` shows, read from its pixels as a phone's
 * camera would (jsQR); the page decodes its own screenshot into pixels.
 */
async function readQrCode(page, image) {
  const png = await image.screenshot();
  const pixels = await page.evaluate(async (base64) => {
    const picture = new Image();
    picture.src = `data:image/png;base64,${base64}`;
    await picture.decode();
    const canvas = document.createElement('canvas');
    [canvas.width, canvas.height] = [picture.naturalWidth, picture.naturalHeight];
    const context = canvas.getContext('2d');
    context.drawImage(picture, 0, 0);
    const { data, width, height } = context.getImageData(0, 0, canvas.width, canvas.height);
    return { data: Array.from(data), width, height };
  }, png.toString('base64'));
  return jsQR(Uint8ClampedArray.from(pixels.data), pixels.width, pixels.height)?.data;
}

/** Settings → Organizations → Edit (`open`: "View" for a viewer) → Integrations. */
async function openIntegrations(page, orgName, open = 'Edit') {
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('link', { name: 'Organizations' }).click();
  await rowOf(page, orgName).getByRole('button', { name: open }).click();
  await page.getByRole('tab', { name: 'Integrations' }).click();
  await page.getByRole('heading', { name: 'Public API' }).waitFor();
}

/**
 * Presses Tab until the focused element is the `role` named `name` (in the
 * row headed `row`, if given), as a keyboard user would; fails after 40.
 */
async function tabTo(page, role, name, row) {
  for (let presses = 0; presses < 40; presses += 1) {
    await page.keyboard.press('Tab');
    const here = await page.evaluate(() => {
      // Text as assistive technology reads it: without aria-hidden parts.
      const text = (node) => {
        const copy = node.cloneNode(true);
        copy.querySelectorAll('[aria-hidden="true"]').forEach((hidden) => hidden.remove());
        return copy.textContent.trim();
      };
      const el = document.activeElement;
      const header = el.closest('tr')?.querySelector('th[scope="row"]');
      return { role: el.getAttribute('role') || { A: 'link', BUTTON: 'button' }[el.tagName], name: text(el), row: header && text(header) };
    });
    if (here.role === role && here.name === name && (row === undefined || here.row === row)) return;
  }
  assert.fail(`Tab never reached the ${role} ${name}${row ? ` of ${row}` : ''}`);
}

test('the console walks the help article and its other paths', async (t) => {
  mkdirSync(SHOTS, { recursive: true });
  await admin('PUT', `/organizations/${SUB_ORG}/schedules/${SCHEDULE}`,
    { name: 'Spring renewals', campaign: 'Renewals 2026', channel: 'sms', status: 'active' });
  await admin('PUT', '/organizations/markup-in-name', { name: MARKUP, parentId: 'acme' });
  // Twenty schedule changes: the Activity tab has more than one page.
  for (let change = 0; change < 20; change += 1) {
    await admin('PUT', `/organizations/${SUB_ORG}/schedules/filler-${change % 2}`,
      { name: `Filler ${change}`, campaign: 'Renewals 2026', channel: 'sms', status: 'paused' });
  }

  // A webhook receiver on loopback: answers 204 and keeps each event.
  const receiver = { received: [] };
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => { body += chunk; });
    request.on('end', () => {
      receiver.received.push(JSON.parse(body));
      response.writeHead(204).end();
    });
  });
  await new Promise((listening) => server.listen(0, '127.0.0.1', listening));
  receiver.url = `http://127.0.0.1:${server.address().port}/hooks`;

  const browser = await launch();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: API });
  const page = await context.newPage();
  const problems = [];
  // A refused API call is logged by Chromium; the console shows it, so only
  // other errors (a CSP violation, an exception) count.
  const handled = /^Failed to load resource: (the server responded with a status of 4\d\d|net::ERR_FAILED)/;
  page.on('console', (message) => {
    if (message.type() === 'error' && !handled.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('dialog', (dialog) => { problems.push(`a ${dialog.type()} dialog: ${dialog.message()}`); dialog.dismiss(); });
  page.setDefaultTimeout(10000);
  const clipboard = () => page.evaluate(() => navigator.clipboard.readText());
  // Whether the page would ask before it is left (a beforeunload listener
  // that cancels the event).
  const leavingAsks = () => page.evaluate(() => {
    const event = new Event('beforeunload', { cancelable: true });
    window.dispatchEvent(event);
    return event.defaultPrevented;
  });
  let copiedKey;
  // The steps build on each other: after a failure the rest are skipped.
  let failed = false;
  const step = (name, body) => t.test(name, { skip: failed && 'an earlier step failed' }, async () => {
    try {
      await body();
    } catch (error) {
      failed = true;
      // What the page showed when the step failed, to see why.
      await page.screenshot({ path: `${SHOTS}/failed-step.png`, fullPage: true }).catch(() => {});
      throw error;
    }
  });

  try {
    await step('sign in through the managed login with PKCE', async () => {
      const response = await page.goto(CONSOLE);
      const csp = response.headers()['content-security-policy'];
      assert.match(csp, /script-src 'self';/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.equal(response.headers()['x-content-type-options'], 'nosniff');
      await check(page, '01-welcome');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('textbox', { name: 'Email' }).waitFor();
      await check(page, '02-sign-in');
      await page.getByRole('textbox', { name: 'Email' }).fill(ADMIN.email);
      await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      assert.equal(new URL(page.url()).search, '', 'the code leaves the address');
      assert.equal(await page.evaluate(() => localStorage.length), 0, 'nothing in localStorage');
      assert.deepEqual(await page.evaluate(() => Object.keys(sessionStorage)), ['orgkeys.console.refresh'],
        'only the refresh token is stored, for this tab');
      await page.reload();
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      await check(page, '03-home');
    });

    await step('Settings → Organizations lists the tree, sub-organizations indented', async () => {
      await page.getByRole('link', { name: 'Settings' }).click();
      await check(page, '04-settings');
      await page.getByRole('link', { name: 'Organizations' }).click();
      const row = rowOf(page, SUB_ORG_NAME);
      await row.waitFor();
      assert.match(await row.getByRole('rowheader').getAttribute('class'), /depth-1/);
      await page.getByRole('button', { name: 'New sub-organization' }).waitFor();
      await check(page, '05-organizations');
    });

    await step('a name that is markup shows as those characters', async () => {
      const cell = page.getByRole('rowheader', { name: MARKUP });
      await cell.waitFor();
      assert.equal(await page.locator('table img').count(), 0, 'no image element was made');
    });

    await step('Edit → Details, then Integrations → Public API', async () => {
      await rowOf(page, SUB_ORG_NAME).getByRole('button', { name: 'Edit' }).click();
      assert.equal(await page.getByRole('tab', { name: 'Details' }).getAttribute('aria-selected'), 'true');
      const name = page.getByRole('textbox', { name: 'Name' });
      await name.fill(`${SUB_ORG_NAME} (renamed)`);
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('heading', { name: `${SUB_ORG_NAME} (renamed)`, level: 1 }).waitFor();
      await name.fill(SUB_ORG_NAME);
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('heading', { name: SUB_ORG_NAME, level: 1 }).waitFor();
      await check(page, '06-details');
      await page.getByRole('tab', { name: 'Integrations' }).click();
      await page.getByRole('heading', { name: 'Public API' }).waitFor();
      await check(page, '07-integrations');
    });

    await step('Generate → warning → Generate → Copy → Cancel', async () => {
      await page.getByRole('button', { name: 'Generate' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByText('note down in a safe place').waitFor();
      await dialog.getByRole('textbox', { name: 'Key name' }).fill(KEY);
      assert.equal(await dialog.getByRole('combobox', { name: 'Expires' }).inputValue(), 'never');
      for (const scope of SCOPES) {
        assert.equal(await dialog.getByRole('checkbox', { name: scope, exact: true }).isChecked(), true, `${scope} by default`);
      }
      assert.equal(await dialog.getByRole('checkbox').count(), SCOPES.length, 'one checkbox per scope, no other');
      await dialog.getByRole('checkbox', { name: 'conversations:write', exact: true }).uncheck();
      await dialog.getByRole('spinbutton', { name: 'Requests per minute' }).fill('50');
      await check(page, '08-generate-warning');
      await dialog.getByRole('button', { name: 'Generate' }).click();
      const key = dialog.getByRole('textbox', { name: 'API key' });
      await key.waitFor();
      assert.equal(await key.evaluate((el) => el.readOnly), true, 'the key is read-only');
      assert.match(await key.evaluate((el) => getComputedStyle(el).fontFamily), /monospace/, 'the key is in a monospace font');
      await dialog.getByText('It will remain valid for your organization until it is deleted').waitFor();
      // What to do next: the base URL, a curl example with its own Copy, the reference.
      await dialog.getByRole('heading', { name: 'Next: call the API' }).waitFor();
      await dialog.getByText(API, { exact: true }).waitFor();
      await dialog.getByRole('button', { name: 'Copy example' }).click();
      assert.equal(await clipboard(), `curl -H "Authorization: Bearer $ORGKEYS_API_KEY" ${API}/v1/schedules`);
      assert.equal(await dialog.getByRole('link', { name: 'API reference' }).getAttribute('href'), `${API}/docs`);
      await dialog.getByRole('button', { name: 'Copy', exact: true }).click();
      await dialog.getByText('Copied to the clipboard.').waitFor();
      copiedKey = await clipboard();
      assert.equal(copiedKey, await key.inputValue());
      await check(page, '09-key-shown');
      await dialog.getByRole('button', { name: 'Close', exact: true }).click();
      await dialogGone(page);
      assert.equal(await page.getByRole('textbox', { name: 'API key' }).count(), 0, 'the key left the page');
      assert.equal(await leavingAsks(), false, 'once closed, leaving does not ask');
      for (const column of ['Name', 'Key', 'Scopes', 'Created', 'Created by', 'Last used', 'Expires', 'Status']) {
        await page.getByRole('columnheader', { name: column, exact: true }).waitFor();
      }
      const row = rowOf(page, KEY);
      await row.getByText('conversations:read').waitFor();
      assert.equal(await row.getByText('conversations:write').count(), 0, 'the scope left out is not the key\'s');
    });

    await step('the copied key answers 200 on GET /v1/schedules', async () => {
      const response = await fetch(`${API}/v1/schedules`, { headers: { authorization: `Bearer ${copiedKey}` } });
      const text = await response.text();
      assert.equal(response.status, 200, text);
      const body = JSON.parse(text);
      assert.ok(body.items.some((s) => s.scheduleId === SCHEDULE), JSON.stringify(body));
    });

    await step('Reporting → Campaign summary shows the schedule IDs', async () => {
      await page.getByRole('link', { name: 'Reporting' }).click();
      await page.getByRole('link', { name: 'Campaign summary' }).click();
      await page.getByRole('combobox', { name: 'Organization' }).selectOption(SUB_ORG);
      const row = page.getByRole('row').filter({ hasText: SCHEDULE });
      await row.waitFor();
      for (const column of ['Schedule ID', 'Name', 'Campaign', 'Channel', 'Status']) {
        await page.getByRole('columnheader', { name: column, exact: true }).waitFor();
      }
      await row.getByRole('button', { name: 'Copy schedule ID' }).click();
      await row.getByText('Copied.').waitFor();
      assert.equal(await clipboard(), SCHEDULE);
      await check(page, '10-campaign-summary');
    });

    await step('Insights: requests against the key limit, contacts against the quota, the chart', async () => {
      await page.getByRole('link', { name: 'Insights' }).click();
      await page.getByRole('combobox', { name: 'Organization' }).selectOption(SUB_ORG);
      await page.getByRole('heading', { name: 'Requests this minute' }).waitFor();
      await page.getByText(new RegExp(`${KEY}: [\\d,]+ of [\\d,]+ requests`)).waitFor();
      await page.getByText(/Contacts today: [\d,]+ of [\d,]+ contacts/).waitFor();
      await page.getByRole('img', { name: /Contacts per day over the last 30 days/ }).waitFor();
      assert.equal(await page.getByRole('table', { name: 'Contacts per day' }).getByRole('row').count(), 31);
      await page.getByRole('heading', { name: 'Schedules' }).waitFor();
      await rowOf(page, SCHEDULE).getByRole('button', { name: 'Copy schedule ID' }).waitFor();
      await check(page, '11-insights');
    });

    await step('not copied: Close says so and offers "Close anyway"', async () => {
      await openIntegrations(page, SUB_ORG_NAME);
      await page.getByRole('button', { name: 'Generate' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByRole('button', { name: 'Generate' }).click();
      await dialog.getByRole('textbox', { name: 'API key' }).waitFor();
      assert.equal(await leavingAsks(), true, 'leaving the page asks while the key is shown');
      await dialog.getByRole('button', { name: 'Close', exact: true }).click();
      await dialog.getByText('cannot be shown again').waitFor();
      assert.equal(await dialog.isVisible(), true, 'the first Cancel keeps the dialog');
      await check(page, '12-close-anyway');
      await dialog.getByRole('button', { name: 'Close anyway' }).click();
      await dialogGone(page);
      assert.equal(await leavingAsks(), false, 'once closed, leaving does not ask');
    });

    await step('not copied: Escape is Cancel, twice', async () => {
      await page.getByRole('button', { name: 'Generate' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByRole('button', { name: 'Generate' }).click();
      const key = dialog.getByRole('textbox', { name: 'API key' });
      await key.waitFor();
      await page.keyboard.press('Escape');
      await dialog.getByText('cannot be shown again').waitFor();
      assert.equal(await key.isVisible(), true, 'the first Escape keeps the key on screen');
      await page.keyboard.press('Escape');
      await dialogGone(page);
      assert.equal(await page.getByRole('textbox', { name: 'API key' }).count(), 0, 'the key left the page');
    });

    await step('a copy by hand counts as copied; an expiry shows in the dialog and the list', async () => {
      await page.getByRole('button', { name: 'Generate' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByRole('textbox', { name: 'Key name' }).fill(`${KEY}-expiring`);
      await dialog.getByRole('combobox', { name: 'Expires' }).selectOption({ label: 'In 90 days' });
      await dialog.getByRole('button', { name: 'Generate' }).click();
      const key = dialog.getByRole('textbox', { name: 'API key' });
      await key.waitFor();
      await dialog.getByText(/It works until/).waitFor();
      assert.ok(await key.evaluate((el) => el === document.activeElement && el.selectionEnd - el.selectionStart === el.value.length),
        'the key is focused and selected');
      await page.keyboard.press('Control+C');
      await dialog.getByText('Copied to the clipboard.').waitFor();
      await dialog.getByRole('button', { name: 'Close', exact: true }).click();
      await dialogGone(page);
      const expires = await rowOf(page, `${KEY}-expiring`).getByRole('cell').nth(5).textContent();
      assert.notEqual(expires.trim(), 'Never');
    });

    await step('Search keys finds by name, hint and status', async () => {
      const search = page.getByRole('searchbox', { name: 'Search keys' });
      await search.fill(`${KEY}-expiring`);
      await page.getByText('1 of').waitFor();
      assert.equal(await page.getByRole('rowheader').count(), 1);
      await search.fill('no such key anywhere');
      assert.equal(await page.getByRole('rowheader').count(), 0);
      await search.fill('active');
      await rowOf(page, KEY).waitFor();
      await search.fill('');
    });

    await step('Roll asks for the grace period, then shows the new key', async () => {
      await rowOf(page, KEY).getByRole('button', { name: 'Roll' }).click();
      const dialog = page.getByRole('dialog');
      for (const period of ['Immediately', '1 hour', '24 hours']) {
        await dialog.getByRole('radio', { name: period }).waitFor();
      }
      await dialog.getByRole('radio', { name: 'Immediately' }).check();
      await check(page, '13-roll');
      await dialog.getByRole('button', { name: 'Roll' }).click();
      const key = dialog.getByRole('textbox', { name: 'API key' });
      await key.waitFor();
      const rolled = await key.inputValue();
      assert.notEqual(rolled, copiedKey);
      await dialog.getByRole('button', { name: 'Copy', exact: true }).click();
      await dialog.getByText('Copied to the clipboard.').waitFor();
      await dialog.getByRole('button', { name: 'Close', exact: true }).click();
      await dialogGone(page);
      const response = await fetch(`${API}/v1/schedules`, { headers: { authorization: `Bearer ${rolled}` } });
      assert.equal(response.status, 200);
      // Both keys keep the name; the list tells which replaces which.
      const rows = rowOf(page, KEY);
      await rows.getByText(/^replaces/).waitFor();
      await rows.getByText(/^replaced by/).waitFor();
    });

    await step('Disable, then Enable', async () => {
      const row = rowOf(page, KEY).last();
      await row.getByRole('button', { name: 'Disable' }).click();
      await row.getByRole('button', { name: 'Enable' }).waitFor();
      await row.getByText(/Disabled: it stops working within 30 seconds/).waitFor();
      await row.getByText('disabled', { exact: true }).waitFor();
      await row.getByRole('button', { name: 'Enable' }).click();
      await row.getByRole('button', { name: 'Disable' }).waitFor();
    });

    await step('Delete confirms in a dialog', async () => {
      const rows = rowOf(page, KEY);
      const before = await rows.count();
      await rows.first().getByRole('button', { name: 'Delete' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByRole('button', { name: 'Delete' }).waitFor();
      await dialog.getByText(/stops working within 30 seconds/).waitFor();
      assert.equal(await dialog.getByText(/at once/).count(), 0, 'no promise the cache cannot keep');
      await check(page, '14-delete');
      await dialog.getByRole('button', { name: 'Delete' }).click();
      await dialogGone(page);
      await rows.nth(before - 1).waitFor({ state: 'detached' });
      assert.equal(await rows.count(), before - 1);
    });

    await step('keyboard alone: Settings → Organizations → Edit → Integrations → Generate, the dialog keeps focus, Escape cancels, focus returns', async () => {
      await page.goto(`${CONSOLE}#/`);
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      await tabTo(page, 'link', 'Settings');
      await page.keyboard.press('Enter');
      await tabTo(page, 'link', 'Organizations');
      await page.keyboard.press('Enter');
      await page.getByRole('button', { name: 'New sub-organization' }).waitFor();
      await tabTo(page, 'button', 'Edit', SUB_ORG_NAME);
      await page.keyboard.press('Enter');
      await tabTo(page, 'tab', 'Details');
      await page.keyboard.press('ArrowRight');
      await page.getByRole('tab', { name: 'Integrations', selected: true }).waitFor();
      const generate = page.getByRole('button', { name: 'Generate' });
      await generate.waitFor();
      await tabTo(page, 'button', 'Generate');
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog');
      const name = dialog.getByRole('textbox', { name: 'Key name' });
      await name.waitFor();
      assert.ok(await name.evaluate((el) => el === document.activeElement), 'focus is in the dialog');
      await page.keyboard.press('Escape');
      await dialogGone(page);
      assert.ok(await generate.evaluate((el) => el === document.activeElement), 'focus is back on Generate');

      await page.keyboard.press('Enter');
      await name.waitFor();
      await page.keyboard.type(KEYBOARD_KEY);
      await page.keyboard.press('Enter');
      const key = dialog.getByRole('textbox', { name: 'API key' });
      await key.waitFor();
      assert.ok(await key.evaluate((el) => el === document.activeElement), 'the key has focus');
      for (const shift of [false, true]) {
        for (let i = 0; i < 6; i += 1) {
          await page.keyboard.press(shift ? 'Shift+Tab' : 'Tab');
          assert.ok(await dialog.evaluate((el) => el.contains(document.activeElement)), 'Tab stays in the dialog');
        }
      }
      await tabTo(page, 'button', 'Copy');
      await page.keyboard.press('Enter');
      await dialog.getByText('Copied to the clipboard.').waitFor();
      assert.equal(await clipboard(), await key.inputValue());
      await page.keyboard.press('Escape');
      await dialogGone(page);
      await rowOf(page, KEYBOARD_KEY).waitFor();
    });

    await step('Users and Activity', async () => {
      await page.getByRole('tab', { name: 'Integrations', selected: true }).waitFor();
      await page.getByRole('tab', { name: 'Integrations' }).focus();
      await page.keyboard.press('ArrowRight');
      await page.getByRole('tab', { name: 'Users', selected: true }).waitFor();
      assert.ok(await page.getByRole('tab', { name: 'Users' }).evaluate((el) => el === document.activeElement), 'focus follows the tab');
      await page.getByRole('heading', { name: 'Users', level: 2 }).waitFor();
      await check(page, '15-users');
      await page.keyboard.press('ArrowRight');
      await page.getByRole('heading', { name: 'Activity', level: 2 }).waitFor();
      const events = page.getByRole('list', { name: 'Audit events, newest first' }).getByRole('listitem');
      await events.filter({ hasText: `admin@acme.example generated key ${KEYBOARD_KEY} (` }).waitFor();
      await events.filter({ hasText: `admin@acme.example disabled key ${KEY} (` }).waitFor();
      await events.filter({ hasText: `admin@acme.example enabled key ${KEY} (` }).waitFor();
      await check(page, '16-activity');
      // More than one page: the seeded schedule changes fill the first.
      assert.equal(await events.count(), 20);
      const first = await events.allTextContents();
      await page.getByRole('button', { name: 'Load more' }).click();
      await events.nth(20).waitFor();
      const both = await events.allTextContents();
      assert.deepEqual(both.slice(0, 20), first, 'the first page stays, the next follows');
      await page.getByRole('combobox', { name: 'Action' }).selectOption('api_key.created');
      await events.filter({ hasText: `generated key ${KEYBOARD_KEY}` }).waitFor();
      // The unfiltered list had that event too: wait for the others to leave.
      await events.filter({ hasNotText: /generated key/ }).first().waitFor({ state: 'detached' });
      for (const text of await events.allTextContents()) assert.match(text, /generated key/);
      await page.getByRole('combobox', { name: 'By' }).selectOption('admin@acme.example');
      for (const text of await events.allTextContents()) assert.match(text, /^admin@acme\.example /);
    });

    await step('Users: Invite user, change the role, Remove', async () => {
      const invitee = `invitee-${RUN}@acme.example`;
      await page.getByRole('tab', { name: 'Users' }).click();
      await page.getByRole('textbox', { name: 'Email' }).fill(invitee);
      await page.getByRole('combobox', { name: 'Role', exact: true }).selectOption('org-viewer');
      await page.getByRole('button', { name: 'Invite user' }).click();
      const row = rowOf(page, invitee);
      await row.waitFor();
      await row.getByRole('combobox', { name: `Role of ${invitee}` }).selectOption('org-admin');
      await page.waitForLoadState('networkidle');
      assert.equal(await row.getByRole('combobox', { name: `Role of ${invitee}` }).inputValue(), 'org-admin');
      await row.getByRole('button', { name: 'Remove' }).click();
      const dialog = page.getByRole('dialog');
      await check(page, '16b-remove-user');
      await dialog.getByRole('button', { name: 'Remove' }).click();
      await dialogGone(page);
      await row.waitFor({ state: 'detached' });
    });

    await step('New sub-organization: a field error sits by its field, then it is created', async () => {
      await page.getByRole('link', { name: 'Settings' }).click();
      await page.getByRole('link', { name: 'Organizations' }).click();
      await page.getByRole('button', { name: 'New sub-organization' }).click();
      const dialog = page.getByRole('dialog');
      const field = dialog.getByRole('textbox', { name: 'Name' });
      // The server's rule (at most 200 characters), not the browser's.
      await field.fill('N'.repeat(201));
      await dialog.getByRole('combobox', { name: 'Parent' }).selectOption(SUB_ORG);
      await dialog.getByText('Its ID is made for you (org_…) and never changes.').waitFor();
      await dialog.getByRole('button', { name: 'Create' }).click();
      await dialog.getByRole('alert').getByText('Check the field marked below.').waitFor();
      assert.equal(await dialog.getByText(/failed validation/i).count(), 0, 'no generic validation message');
      assert.equal(await field.getAttribute('aria-invalid'), 'true', 'the field error is by its field');
      await check(page, '17-new-sub-organization');
      await field.fill(NEW_ORG_NAME);
      await dialog.getByRole('button', { name: 'Create' }).click();
      await dialogGone(page);
      const row = page.getByRole('row').filter({ hasText: NEW_ORG_NAME });
      assert.match(await row.getByRole('rowheader').getAttribute('class'), /depth-2/);
      newOrg = (await row.locator('code').first().textContent()).trim();
      assert.match(newOrg, /^org_[0-9a-f]{24}$/, 'the server made its ID');
    });

    await step('empty states: Users and Campaign summary say what to do', async () => {
      await page.getByRole('row').filter({ hasText: NEW_ORG_NAME }).getByRole('button', { name: 'Edit' }).click();
      await page.getByRole('tab', { name: 'Users' }).click();
      await page.getByText('No one has been invited to Acme Nordics yet.').waitFor();
      await check(page, '15b-users-empty');
      await page.getByRole('link', { name: 'Reporting' }).click();
      await page.getByRole('link', { name: 'Campaign summary' }).click();
      await page.getByRole('combobox', { name: 'Organization' }).selectOption(newOrg);
      await page.getByText('Acme Nordics has no schedules yet.').waitFor();
      await page.getByText(/Schedules come from your organization's campaigns/).waitFor();
      await check(page, '10b-campaign-summary-empty');
    });

    await step('a network failure says so, and Retry loads', async () => {
      const organizations = `${API}/v1/console/organizations`;
      await page.route(organizations, (route) => route.abort());
      await page.getByRole('link', { name: 'Settings' }).click();
      await page.getByRole('link', { name: 'Organizations' }).click();
      await page.getByRole('alert').getByText('Could not reach the API').waitFor();
      await check(page, '05b-network-failure');
      await page.unroute(organizations);
      await page.getByRole('button', { name: 'Retry' }).click();
      await rowOf(page, SUB_ORG_NAME).waitFor();
    });

    await step('Webhooks: Add endpoint, the secret shown once, Send test event, Messages and Resend, Disable, Roll secret, Delete', async () => {
      await openIntegrations(page, SUB_ORG_NAME);
      await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
      await page.getByText('No endpoints yet.').waitFor();
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      const dialog = page.getByRole('dialog');
      for (const type of EVENT_TYPES) {
        assert.equal(await dialog.getByRole('checkbox', { name: type, exact: true }).isChecked(), false, `${type} unchecked`);
      }
      assert.equal(await dialog.getByRole('checkbox').count(), EVENT_TYPES.length + 1,
        'one checkbox per event type and "Include sub-organizations", no other');
      await dialog.getByRole('textbox', { name: 'Endpoint URL' }).fill('ftp://127.0.0.1/hooks');
      await dialog.getByRole('button', { name: 'Add endpoint' }).click();
      await dialog.getByText(/must use https:\/\//).waitFor();
      await dialog.getByRole('textbox', { name: 'Endpoint URL' }).fill(receiver.url);
      await dialog.getByRole('textbox', { name: 'Description' }).fill('CRM sync');
      await dialog.getByRole('checkbox', { name: 'api_key.leaked', exact: true }).check();
      await dialog.getByRole('checkbox', { name: 'webhook.test', exact: true }).check();
      await dialog.getByRole('checkbox', { name: 'Include sub-organizations' }).check();
      await check(page, '21-webhook-add');
      await dialog.getByRole('button', { name: 'Add endpoint' }).click();
      const secret = dialog.getByRole('textbox', { name: 'Signing secret' });
      await secret.waitFor();
      assert.match(await secret.inputValue(), /^whsec_[A-Za-z0-9+/]{43}=$/);
      assert.equal(await secret.evaluate((el) => el.readOnly), true, 'the secret is read-only');
      // The list behind the dialog already has the endpoint.
      await page.locator('article').filter({ hasText: 'CRM sync' }).waitFor({ state: 'attached' });
      await dialog.getByRole('button', { name: 'Copy', exact: true }).click();
      await dialog.getByText('Copied to the clipboard.').waitFor();
      const firstSecret = await clipboard();
      assert.equal(firstSecret, await secret.inputValue());
      await check(page, '22-webhook-secret');
      await dialog.getByRole('button', { name: 'Close', exact: true }).click();
      await dialogGone(page);
      assert.equal(await page.getByText(firstSecret).count(), 0, 'the secret left the page');

      const card = page.getByRole('article', { name: receiver.url });
      await card.getByText('enabled', { exact: true }).waitFor();
      await card.getByText('CRM sync').waitFor();
      await card.getByText('api_key.leaked').waitFor();
      await card.getByRole('button', { name: 'Send test event' }).click();
      await card.getByText(/^Test event queued as msg_[0-9a-f]{32}\.$/).waitFor();
      await card.getByText('Messages', { exact: true }).click();
      const message = card.getByRole('row').filter({ hasText: 'webhook.test' });
      // The gateway fans the test out and delivers it to the receiver on loopback.
      for (let tries = 0; await message.getByText('delivered', { exact: true }).count() === 0; tries += 1) {
        assert.ok(tries < 60, 'the test event was delivered');
        await page.waitForTimeout(500);
        await card.getByRole('button', { name: 'Refresh' }).click();
      }
      await message.getByText(/: 204 \(\d+ ms\)/).waitFor();
      assert.equal(receiver.received.at(-1).type, 'webhook.test');
      await message.getByRole('button', { name: 'Resend' }).click();
      await message.getByText('Resent: one attempt now, with the same webhook-id.').waitFor();
      await check(page, '23-webhook-messages');

      await card.getByRole('button', { name: 'Disable' }).click();
      await card.getByText('disabled by an administrator').waitFor();
      assert.equal(await card.getByRole('button', { name: 'Send test event' }).isDisabled(), true);
      await check(page, '24-webhook-disabled');
      await card.getByRole('button', { name: 'Enable' }).click();
      await card.getByText('enabled', { exact: true }).waitFor();

      await card.getByRole('button', { name: 'Roll secret' }).click();
      assert.equal(await dialog.getByRole('radio', { name: '24 hours' }).isChecked(), true, 'a day of overlap by default');
      await check(page, '25-webhook-roll');
      await dialog.getByRole('button', { name: 'Roll secret' }).click();
      const rolled = dialog.getByRole('textbox', { name: 'Signing secret' });
      await rolled.waitFor();
      assert.notEqual(await rolled.inputValue(), firstSecret, 'a new secret');
      await dialog.getByRole('button', { name: 'Copy', exact: true }).click();
      await dialog.getByRole('button', { name: 'Close', exact: true }).click();
      await dialogGone(page);
      await card.getByText('Previous secret').waitFor();

      const second = `${receiver.url}/second`;
      await admin('POST', `/organizations/${SUB_ORG}/webhooks`, { url: second, eventTypes: ['webhook.test'] });
      await page.getByRole('tab', { name: 'Details' }).click();
      await page.getByRole('tab', { name: 'Integrations' }).click();
      const secondCard = page.getByRole('article', { name: second });
      await secondCard.getByRole('button', { name: 'Delete' }).click();
      await dialog.getByText(second).waitFor();
      await check(page, '26-webhook-delete');
      await dialog.getByRole('button', { name: 'Delete' }).click();
      await dialogGone(page);
      await secondCard.waitFor({ state: 'detached' });
      await card.waitFor();
      // Back where the next step starts: the organizations list.
      await page.getByRole('link', { name: 'Organizations' }).click();
      await rowOf(page, SUB_ORG_NAME).waitFor();
    });

    await step('a viewer, invited in the console, sets a password on first sign-in and sees no change buttons', async () => {
      const email = `viewer-${RUN}@acme.example`;
      await rowOf(page, SUB_ORG_NAME).getByRole('button', { name: 'Edit' }).click();
      await page.getByRole('tab', { name: 'Users' }).click();
      await page.getByRole('textbox', { name: 'Email' }).fill(email);
      await page.getByRole('combobox', { name: 'Role', exact: true }).selectOption('org-viewer');
      await page.getByRole('button', { name: 'Invite user' }).click();
      await rowOf(page, email).waitFor();
      // What Cognito would have emailed, from the local gateway's outbox.
      const outbox = await (await fetch(`${API}/local/outbox`)).json();
      const invitation = outbox.items.find((message) => message.to === email);
      assert.ok(invitation, `an invitation to ${email} in the outbox`);
      const refreshToken = await page.evaluate(() => sessionStorage.getItem('orgkeys.console.refresh'));
      const { clientId } = await (await fetch(`${CONSOLE}config.json`)).json();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      const refreshed = await fetch(`${API}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken }),
      });
      assert.deepEqual([refreshed.status, (await refreshed.json()).error], [400, 'invalid_grant'], 'sign-out revoked the refresh token');
      await signIn(page, { email, password: invitation.temporaryPassword });
      await page.getByText('At least 12 characters').waitFor();
      await page.getByLabel('New password').fill('Chosen-pass-2');
      await check(page, '18-new-password');
      await page.getByRole('button', { name: 'Set password' }).click();
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      await openIntegrations(page, SUB_ORG_NAME, 'View');
      await rowOf(page, KEYBOARD_KEY).waitFor();
      await check(page, '19-viewer-integrations');
      const card = page.getByRole('article', { name: receiver.url });
      await card.getByText('Messages', { exact: true }).click();
      await card.getByRole('row').filter({ hasText: 'webhook.test' }).first().waitFor();
      for (const name of ['Generate', 'Disable', 'Enable', 'Roll', 'Delete', 'Add endpoint', 'Send test event', 'Roll secret', 'Resend']) {
        assert.equal(await page.getByRole('button', { name }).count(), 0, `a viewer has no ${name}`);
      }
      await page.getByRole('link', { name: 'Organizations' }).click();
      await page.getByRole('button', { name: 'View' }).first().waitFor();
      assert.equal(await page.getByRole('button', { name: 'Edit' }).count(), 0, 'a viewer sees View, not Edit');
      assert.equal(await page.getByRole('button', { name: 'New sub-organization' }).count(), 0);
      await rowOf(page, SUB_ORG_NAME).getByRole('button', { name: 'View' }).click();
      await page.getByRole('term').filter({ hasText: 'Name' }).waitFor();
      assert.equal(await page.getByRole('button', { name: 'Save' }).count(), 0);
      await page.getByRole('tab', { name: 'Users' }).click();
      await page.getByRole('heading', { name: 'Users', level: 2 }).waitFor();
      assert.equal(await page.getByRole('button', { name: 'Invite user' }).count(), 0);
      assert.equal(await page.getByRole('button', { name: 'Remove' }).count(), 0);
    });

    await step('Settings → Set up authenticator; the next sign-in asks for its code and refuses a wrong one', async () => {
      const viewer = { email: `viewer-${RUN}@acme.example`, password: 'Chosen-pass-2' };
      await page.getByRole('link', { name: 'Settings' }).click();
      await page.getByRole('heading', { name: 'Authenticator app' }).waitFor();
      await page.getByText('Off: sign-ins ask for your password only.').waitFor();
      await check(page, '27-authenticator-off');
      await page.getByRole('button', { name: 'Set up authenticator' }).click();
      const dialog = page.getByRole('dialog', { name: 'Set up an authenticator app' });
      const key = dialog.getByRole('textbox', { name: 'Setup key' });
      await key.waitFor();
      await dialog.getByRole('img', { name: 'QR code of the setup link' }).waitFor();
      await check(page, '28-set-up-authenticator');
      // The app's side: the otpauth:// link parsed by the TOTP library, the
      // same secret as the key shown as text.
      const link = await dialog.getByRole('link', { name: 'Open in an authenticator app' }).getAttribute('href');
      const app = OTPAuth.URI.parse(link);
      assert.equal(app.secret.base32, (await key.inputValue()).replace(/\s/g, ''));
      assert.deepEqual([app.issuer, app.label, app.algorithm, app.digits, app.period],
        ['orgkeys', viewer.email, 'SHA1', 6, 30]);
      assert.equal(await readQrCode(page, dialog.getByRole('img', { name: 'QR code of the setup link' })), link,
        'the QR code holds the link');
      const code = dialog.getByRole('textbox', { name: 'Code from the app' });
      await code.fill(wrongCode(app));
      await dialog.getByRole('button', { name: 'Verify' }).click();
      await dialog.getByText('Enter the code your authenticator app shows now.').waitFor();
      await check(page, '29-authenticator-wrong-code');
      await code.fill(app.generate());
      await dialog.getByRole('button', { name: 'Verify' }).click();
      await dialogGone(page);
      await page.getByRole('status').getByText('Your authenticator app is set up').waitFor();
      await page.getByText('On: each sign-in asks for the 6-digit code').waitFor();
      await page.getByRole('button', { name: 'Replace authenticator' }).waitFor();

      await page.getByRole('button', { name: 'Sign out' }).click();
      // Signed out: back on the console from the issuer's /logout.
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      await signIn(page, viewer);
      const field = page.getByRole('textbox', { name: 'Code' });
      await field.waitFor();
      await check(page, '30-sign-in-code');
      await field.fill(wrongCode(app));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('alert').getByText('Incorrect code').waitFor();
      assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0, 'a wrong code does not sign in');
      // This step's code was used to set the app up; the next step's is
      // accepted (a clock a little ahead), and it signs in.
      await field.fill(app.generate({ timestamp: Date.now() + 30000 }));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      await page.getByRole('link', { name: 'Settings' }).click();
      await page.getByText('On: each sign-in asks for the 6-digit code').waitFor();
    });

    await step('a session that ended says so on the sign-in page', async () => {
      await page.evaluate(() => sessionStorage.setItem('orgkeys.console.refresh', 'a-refresh-token-that-ended'));
      await page.reload();
      await page.getByRole('alert').getByText('Your session has ended; sign in again.').waitFor();
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      await check(page, '20-session-ended');
    });

    assert.deepEqual(problems, [], 'no console errors, no alert() ever ran');
  } finally {
    await browser.close();
    server.close();
  }
});
