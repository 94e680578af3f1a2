// Development mode only: a person pastes an API key (run by
// tests/tests/api/viewer/development.rs). The key lives in this tab's
// sessionStorage: a reload keeps it, another tab does not see it, sign-out
// forgets it.
//
// Environment: AUDITLOG_URL (the service, in development mode),
// AUDITLOG_AUDITOR_KEY (an AUDITOR key of a tenant with one seeded event),
// AUDITLOG_EVENT_ID (that event), AUDITLOG_BACKEND.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { axe, launch, screenshot, strictPage } from './lib.mjs';

const url = process.env.AUDITLOG_URL;
const key = process.env.AUDITLOG_AUDITOR_KEY;
const eventId = process.env.AUDITLOG_EVENT_ID;
const backend = process.env.AUDITLOG_BACKEND ?? 'backend';

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
  await page.locator(`tr[data-event-id="${eventId}"]`).waitFor();
  // An AUDITOR key: no settings.
  assert.equal(await page.getByRole('link', { name: 'Settings' }).count(), 0);

  await page.reload();
  await page.locator(`tr[data-event-id="${eventId}"]`).waitFor();
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
