// Development mode only: a person pastes an API key (run by
// tests/tests/api/viewer/development.rs). The key lives in this tab's
// sessionStorage: a reload keeps it, another tab does not see it, sign-out
// forgets it.
//
// Environment: AUDITLOG_URL (the service, in development mode),
// AUDITLOG_AUDITOR_KEY (an AUDITOR key of a tenant with one seeded event),
// AUDITLOG_EVENT_ID (that event, the oldest), AUDITLOG_TOTAL (how many events the
// tenant has: that one, 60 entry.update about targets "article"/"page"
// `a-<i>` named "Launch <i>", every tenth a FAILURE, and its own), AUDITLOG_BACKEND.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { axe, launch, screenshot, strictPage } from './lib.mjs';

const url = process.env.AUDITLOG_URL;
const key = process.env.AUDITLOG_AUDITOR_KEY;
const eventId = process.env.AUDITLOG_EVENT_ID;
const total = Number(process.env.AUDITLOG_TOTAL);
const backend = process.env.AUDITLOG_BACKEND ?? 'backend';

const rows = (page, n) => page.waitForFunction((count) => document.querySelectorAll('table.events tbody tr').length === count, n);

let browser;
const problems = [];
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
  assert.deepEqual(problems, [], 'no dialog, page error or CSP violation');
});

test('a pasted API key signs in for this tab only, until sign-out', async () => {
  const context = await browser.newContext();
  const page = await strictPage(context, problems);
  await page.goto(`${url}/`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await axe(page, 'the development sign-in page');
  await screenshot(page, `${backend}-dev-sign-in`);
  await page.getByLabel('API key (development mode)').fill(key);
  await page.getByRole('button', { name: 'Use key' }).click();
  await page.locator('table.events tbody tr').first().waitFor();
  // An AUDITOR key: no settings.
  assert.equal(await page.getByRole('link', { name: 'Settings' }).count(), 0);

  await page.reload();
  await page.locator('table.events tbody tr').first().waitFor();
  const other = await strictPage(context, problems);
  await other.goto(`${url}/`);
  await other.getByRole('heading', { name: 'Sign in' }).waitFor();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('auditlog.apiKey')), null);
  await page.reload();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await context.close();
});

test('a key that stops working shows the signed-out state', async () => {
  const context = await browser.newContext();
  const page = await strictPage(context, problems);
  await page.goto(`${url}/`);
  await page.getByLabel('API key (development mode)').fill('alk_nobody_notakey');
  await page.getByRole('button', { name: 'Use key' }).click();
  await page.getByRole('heading', { name: 'Signed out' }).waitFor();
  await page.getByLabel('API key (development mode)').waitFor();
  await context.close();
});

test('paging and the target, outcome and search filters', async () => {
  const context = await browser.newContext();
  const page = await strictPage(context, problems);
  await page.goto(`${url}/`);
  await page.getByLabel('API key (development mode)').fill(key);
  await page.getByRole('button', { name: 'Use key' }).click();
  await rows(page, 50);
  await page.getByRole('button', { name: 'Load more' }).click();
  await rows(page, total);
  assert.equal(await page.getByRole('button', { name: 'Load more' }).count(), 0);
  await page.locator(`tr[data-event-id="${eventId}"]`).waitFor();

  const targetType = page.getByLabel('Target type', { exact: true });
  await targetType.fill('page');
  await targetType.press('Enter');
  await rows(page, 30);
  await page.getByLabel('Outcome', { exact: true }).selectOption('FAILURE');
  await page.getByText('No events match these filters.').waitFor();
  await axe(page, 'the empty list');
  await targetType.fill('article');
  await targetType.press('Enter');
  await rows(page, 6);
  assert.equal(new URL(page.url()).search, '?targetType=article&outcome=FAILURE');

  await page.getByRole('button', { name: 'Clear filters' }).click();
  const targetId = page.getByLabel('Target id', { exact: true });
  await targetId.fill('a-7');
  await targetId.press('Enter');
  await rows(page, 1);
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await rows(page, 50);
  const search = page.getByLabel('Search', { exact: true });
  await search.fill('launch 42');
  await search.press('Enter');
  await rows(page, 1);
  assert.match(await page.locator('table.events tbody tr').innerText(), /a-42/);

  // A custom date range, in the browser's local time: the next hour has
  // nothing yet; the last hour to the next has everything.
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await page.getByLabel('Date', { exact: true }).selectOption('custom');
  const local = (offsetMinutes) => {
    const at = new Date(Date.now() + offsetMinutes * 60_000);
    return new Date(at.getTime() - at.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  };
  await page.getByLabel('From', { exact: true }).fill(local(60));
  await page.getByText('No events match these filters.').waitFor();
  await page.getByLabel('From', { exact: true }).fill(local(-60));
  await page.getByLabel('To', { exact: true }).fill(local(60));
  await rows(page, 50);
  const query = new URL(page.url()).searchParams;
  assert.equal(query.get('range'), 'custom');
  assert.equal(query.get('to'), local(60));
  await context.close();
});
