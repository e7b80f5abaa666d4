// The "Web console (Lighthouse)" section of BENCHMARKS.md from a Lighthouse
// JSON report: each category's score and the bytes the first load
// transferred, against issue 23's goals. Used by scripts/bench-console.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const [reportPath, chromium] = process.argv.slice(2);
const report = JSON.parse(readFileSync(reportPath, 'utf8'));
const score = (id) => Math.round(report.categories[id].score * 100);
const requests = report.audits['network-requests'].details.items;
const transferred = requests.reduce((sum, r) => sum + r.transferSize, 0);
const uncompressed = requests.reduce((sum, r) => sum + r.resourceSize, 0);
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
const meets = (ok) => (ok ? 'meets' : '**misses**');
const browser = execFileSync(chromium, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();

const rows = [
  ['Performance', score('performance'), '≥ 95', score('performance') >= 95],
  ['Accessibility', score('accessibility'), '100', score('accessibility') === 100],
  ['Best Practices', score('best-practices'), '≥ 95', score('best-practices') >= 95],
  ['SEO', score('seo'), '—', true],
  ['first load, transferred (compressed)', kb(transferred), '≤ 60 KB', transferred <= 60 * 1024],
];
console.log(`## Web console (Lighthouse)

Written by \`scripts/bench-console\` on ${new Date().toISOString().slice(0, 10)}: Lighthouse ${report.lighthouseVersion}
(default run: mobile, simulated slow 4G) with ${browser} on \`/console/\` of the local gateway
(the first screen, before sign-in). ${requests.length} requests, ${kb(uncompressed)} before compression.

| measure | measured | goal | |
|---|---:|---:|---|
${rows.map(([name, value, goal, ok]) => `| ${name} | ${value} | ${goal} | ${goal === '—' ? '' : meets(ok)} |`).join('\n')}

| request | transferred | size |
|---|---:|---:|
${requests.map((r) => `| ${new URL(r.url).pathname} | ${kb(r.transferSize)} | ${kb(r.resourceSize)} |`).join('\n')}

First contentful paint ${report.audits['first-contentful-paint'].displayValue}, largest contentful paint
${report.audits['largest-contentful-paint'].displayValue}, total blocking time ${report.audits['total-blocking-time'].displayValue},
cumulative layout shift ${report.audits['cumulative-layout-shift'].displayValue}.`);
