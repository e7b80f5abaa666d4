// What the console's browser test stands on: the admin API it seeds
// through, the per-screen check (axe-core, then a screenshot), and the
// locators of rows by their row header.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { env } from './support.mjs';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const CONSOLE = env('CONSOLE_URL');
export const API = new URL(CONSOLE).origin;
export const SHOTS = env('CONSOLE_SCREENSHOTS');

/** The admin API, as a platform operator (the local admin token). */
export async function admin(method, path, body) {
  const response = await fetch(`${API}/v1/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${env('ADMIN_TOKEN')}`, 'content-type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${await response.text()}`);
}

/** The sizes and colour schemes every screen is checked in: a phone and a laptop, light and dark. */
export const VIEWS = [
  { width: 1280, height: 800, scheme: 'light' },
  { width: 1280, height: 800, scheme: 'dark' },
  { width: 390, height: 844, scheme: 'light' },
  { width: 390, height: 844, scheme: 'dark' },
];

/** Further widths of the 360–1440 px range where the page must not scroll sideways either. */
const WIDTHS = [360, 768, 1024, 1440];

/** Whether the page is wider than the viewport (page-level horizontal scrolling), with both widths. */
const sideways = (page) => page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: innerWidth }));

/**
 * The screen in every view: no page-level horizontal scrolling (nor at the
 * further widths), axe-core's
 * violations (none expected) and a screenshot `name-WIDTH-SCHEME.png`. The
 * page is left at 1280×800, light, as the journey runs.
 */
export async function check(page, name) {
  await page.waitForLoadState('networkidle');
  // Every section done loading (a screen may load several at once).
  await page.waitForFunction(() => ![...document.querySelectorAll('[role="status"]')]
    .some((status) => status.textContent.trim() === 'Loading…'));
  // Evaluated through the DevTools protocol: the page's CSP forbids inline
  // scripts, which is the point, so axe is not added as a <script>.
  await page.evaluate(AXE);
  try {
    for (const view of VIEWS) {
      await page.setViewportSize({ width: view.width, height: view.height });
      await page.emulateMedia({ colorScheme: view.scheme });
      const label = `${name} at ${view.width}px, ${view.scheme}`;
      const widths = await sideways(page);
      assert.ok(widths.scroll <= widths.inner, `${label}: the page scrolls sideways (${widths.scroll} > ${widths.inner} px)`);
      // A modal's backdrop covers the viewport only: a dialog is shot as seen.
      const dialogOpen = await page.getByRole('dialog').count() > 0;
      await page.screenshot({ path: `${SHOTS}/${name}-${view.width}-${view.scheme}.png`, fullPage: !dialogOpen });
      const violations = await page.evaluate(async () => {
        const results = await window.axe.run(document, { resultTypes: ['violations'] });
        return results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      });
      assert.deepEqual(violations, [], `axe on ${label}`);
    }
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 800 });
      const widths = await sideways(page);
      assert.ok(widths.scroll <= widths.inner, `${name} at ${width}px: the page scrolls sideways (${widths.scroll} > ${widths.inner} px)`);
    }
  } finally {
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.emulateMedia({ colorScheme: 'light' });
  }
}

/** No dialog element at all, open or closed: the one shown has left the page. */
export const dialogGone = (page) => page.locator('dialog').waitFor({ state: 'detached' });
/** The table row whose row header is `name` (an organization, a key, a user). */
export const rowOf = (page, name) => page.getByRole('row').filter({ has: page.getByRole('rowheader', { name, exact: true }) });
