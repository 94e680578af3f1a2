// Measures the viewer's first render: from navigation to the first event
// rows visible, in a cold browser context (no cache, no storage) each run;
// then a filter change (outcome FAILURE) until the new list is shown; and
// the JavaScript it ships (gzip). A measurement, not a test: it prints and
// asserts nothing. Times are read from the page's clock after Playwright saw
// the rows, so they include one round trip of the driver (a few ms).
//
//   AUDITLOG_URL=http://127.0.0.1:8080 AUDITLOG_KEY=alk_... [RUNS=15] node first-render.mjs
//
// AUDITLOG_KEY is an ADMIN key of a tenant with events: the script mints one
// viewer token with it (recorded as viewer_token.create) and opens
// `/#token=…`, so it works in production mode too.
import { gzipSync } from 'node:zlib';

import { gql, launch } from './lib.mjs';

const url = process.env.AUDITLOG_URL ?? 'http://127.0.0.1:8080';
const key = process.env.AUDITLOG_KEY;
const runs = Number(process.env.RUNS ?? 15);
if (!key) {
  console.error('set AUDITLOG_KEY to an ADMIN key of a tenant with events');
  process.exit(2);
}

const { createViewerToken } = await gql(
  url,
  key,
  'mutation($input: ViewerTokenInput!) { createViewerToken(input: $input) { token } }',
  { input: { role: 'AUDITOR', subject: { id: 'first-render-bench' }, expiresInSeconds: 3600 } },
);

const index = await (await fetch(`${url}/`)).text();
let jsGzip = 0;
for (const [, path] of index.matchAll(/src="(\/assets\/[^"]+\.js)"/g)) {
  jsGzip += gzipSync(Buffer.from(await (await fetch(url + path)).arrayBuffer()), { level: 9 }).length;
}

const browser = await launch();
const times = [];
const changes = [];
for (let i = 0; i < runs; i++) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${url}/#token=${encodeURIComponent(createViewerToken.token)}`);
  await page.locator('table.events tbody tr').first().waitFor({ timeout: 30_000 });
  // Milliseconds since the navigation started, by the page's own clock.
  times.push(await page.evaluate(() => performance.now()));

  // A filter change: the old table is marked, the new one (or "no events") is not.
  const start = await page.evaluate(() => {
    document.querySelector('table.events')?.setAttribute('data-old', '');
    return performance.now();
  });
  await page.getByLabel('Outcome', { exact: true }).selectOption('FAILURE');
  await page.locator('table.events:not([data-old]) tbody tr, p.empty').first().waitFor({ timeout: 30_000 });
  changes.push((await page.evaluate(() => performance.now())) - start);
  await context.close();
}
await browser.close();
const summary = (values) => {
  values.sort((a, b) => a - b);
  const median = values[Math.floor(values.length / 2)];
  return `median ${median.toFixed(0)} ms over ${values.length} runs (min ${values[0].toFixed(0)}, max ${values[values.length - 1].toFixed(0)})`;
};
console.log(`first rows visible (cold context): ${summary(times)}`);
console.log(`filter change to the new list: ${summary(changes)}`);
console.log(`JavaScript shipped: ${(jsGzip / 1024).toFixed(1)} KB gzip`);
