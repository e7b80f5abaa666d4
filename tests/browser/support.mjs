// What the browser tests share: their settings from the environment
// (scripts/browser-test sets them) and Debian's Chromium, started as this
// machine's closed network needs.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const { chromium } = require('playwright-core');

/** The environment variable `name`, which scripts/browser-test sets. */
export const env = (name) => {
  const value = process.env[name];
  assert.ok(value, `${name} is not set: run scripts/browser-test`);
  return value;
};

/**
 * Chromium headless. The closed network refuses background connections,
 * which would otherwise be logged, hence the flags.
 */
export const launch = () => chromium.launch({
  executablePath: env('CHROMIUM'),
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
