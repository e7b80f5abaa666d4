// The rendered API reference (GET /docs on the local gateway) in headless
// Chromium: it renders the document's title and every operation's summary,
// and logs no console error. Run by scripts/browser-test.
//
// The page is self-contained (Redoc inlined) except for Redocly's attribution
// logo, which it loads from Redocly's CDN. This machine has no network, so the
// test answers every request that would leave it with an empty 204 and checks
// that the logo is the only such request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { env, launch } from './support.mjs';

const METHODS = ['get', 'put', 'post', 'patch', 'delete'];

test('the API reference renders every operation without console errors', async () => {
  const document = JSON.parse(readFileSync(env('OPENAPI_JSON'), 'utf8'));
  const summaries = Object.values(document.paths).flatMap((item) =>
    METHODS.filter((m) => item[m]).map((m) => item[m].summary));
  assert.ok(summaries.length > 0, 'the document has operations');

  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const external = [];
    await page.route(/^https?:\/\/(?!127\.0\.0\.1[:/])/, (route) => {
      external.push(route.request().url());
      return route.fulfill({ status: 204 });
    });
    const errors = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('requestfailed', (request) => errors.push(`failed: ${request.url()}`));
    const response = await page.goto(env('DOCS_URL'), { waitUntil: 'load' });
    assert.equal(response.status(), 200);
    await page.waitForSelector('h1', { timeout: 15000 });
    await page.screenshot({ path: env('SCREENSHOT') });

    assert.ok((await page.title()).includes(document.info.title), await page.title());
    const h1 = await page.locator('h1').first().textContent();
    assert.ok(h1.includes(document.info.title), `heading: ${h1}`);
    // Sections render as they scroll into view; the collapsed navigation
    // holds every operation too. Read the whole document's text.
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await page.waitForTimeout(500);
    const text = await page.evaluate(() => document.body.textContent);
    const missing = summaries.filter((summary) => !text.includes(summary));
    assert.deepEqual(missing, [], 'every operation summary is on the page');
    assert.deepEqual(errors, [], 'no console errors');
    const unexpected = external.filter((url) => !/^https:\/\/cdn\.redoc\.ly\/redoc\/logo-mini(-full)?\.svg$/.test(url));
    assert.deepEqual(unexpected, [], 'nothing but the attribution logo leaves the machine');
  } finally {
    await browser.close();
  }
});
