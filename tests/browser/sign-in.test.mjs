// People sign in through the real OpenID Provider and use the viewer
// (run by tests/tests/api/viewer/sign_in.rs, which seeded the tenants).
//
// Environment: AUDITLOG_URL (the service, which is its own public URL),
// AUDITLOG_ADMIN_KEY (acme's ADMIN key, to check what the browser changed),
// AUDITLOG_EVENTS ({ name: id } of the seeded events, see sign_in.rs),
// AUDITLOG_OTHER_TENANT_EVENT (an event of tenant beta), AUDITLOG_BACKEND.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';

import { RECORD, axe, gql, launch, parseCsv, providerSignIn, rowIds, screenshot, strictPage } from './lib.mjs';

const url = process.env.AUDITLOG_URL;
const adminKey = process.env.AUDITLOG_ADMIN_KEY;
const ids = JSON.parse(process.env.AUDITLOG_EVENTS);
const otherTenantEvent = process.env.AUDITLOG_OTHER_TENANT_EVENT;
const backend = process.env.AUDITLOG_BACKEND ?? 'backend';

let browser;
const problems = [];
let alice; // Alice's page, signed in by the first test.

before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
  assert.deepEqual(problems, [], 'no dialog, page error or CSP violation');
});

/** A fresh context (no cookies, no cache) signed in as `login` after opening `path`. */
async function signedIn(login, path = '/') {
  const context = await browser.newContext();
  const page = await strictPage(context, problems);
  await page.goto(url + path);
  await page.getByRole('link', { name: 'Sign in' }).click();
  await providerSignIn(page, login);
  await page.locator('header.top').waitFor();
  return page;
}

test('sign in through the identity provider', async () => {
  const context = await browser.newContext();
  const page = await strictPage(context, problems);
  await page.goto(`${url}/`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await axe(page, 'the sign-in page');
  await screenshot(page, `${backend}-sign-in`);
  await page.getByRole('link', { name: 'Sign in' }).click();
  await providerSignIn(page, 'alice');
  await page.locator('header.top').getByText('Alice Admin').waitFor();
  assert.equal(new URL(page.url()).pathname, '/');
  await page.locator(`tr[data-event-id="${ids.login_ann_1h}"]`).waitFor();
  alice = page;
});

test('filter by action, user and date', async () => {
  const page = alice;
  // Actions: document.update and document.delete; the last 7 days.
  await page.locator('.actions-menu summary').click();
  await page.getByRole('checkbox', { name: /^document\.update/ }).check();
  await page.getByRole('checkbox', { name: /^document\.delete/ }).check();
  await page.getByLabel('Date', { exact: true }).selectOption('7d');
  await page.locator(`tr[data-event-id="${ids.update_ben_2h}"]`).waitFor();
  await page.waitForFunction((n) => document.querySelectorAll('table.events tbody tr').length === n, 2);
  assert.deepEqual(await rowIds(page), [ids.update_ben_2h, ids.update_ann_3d]);
  const query = new URL(page.url()).searchParams;
  assert.deepEqual(query.getAll('action').sort(), ['document.delete', 'document.update']);
  assert.equal(query.get('range'), '7d');
  await axe(page, 'the filtered list');
  await screenshot(page, `${backend}-list-filtered`);

  // The link is the state: opened afresh, the same rows.
  await page.goto(page.url());
  await page.waitForFunction((n) => document.querySelectorAll('table.events tbody tr').length === n, 2);
  assert.deepEqual(await rowIds(page), [ids.update_ben_2h, ids.update_ann_3d]);

  // Any time: the 10-day-old delete too.
  await page.getByLabel('Date', { exact: true }).selectOption('');
  await page.waitForFunction((n) => document.querySelectorAll('table.events tbody tr').length === n, 3);
  assert.deepEqual(await rowIds(page), [ids.update_ben_2h, ids.update_ann_3d, ids.delete_ben_10d]);

  // One click clears everything; then the user Ben within 30 days.
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await page.waitForURL(`${url}/`);
  await page.locator(`tr[data-event-id="${ids.create_ann_20d}"]`).waitFor();
  const user = page.getByLabel('User', { exact: true });
  await user.fill('u-ben');
  await user.press('Enter');
  await page.getByLabel('Date', { exact: true }).selectOption('30d');
  // The user alone shows these two rows too, so a count could be met before
  // the date's reload empties the list: wait for the rows themselves.
  await page.waitForFunction(
    (want) => [...document.querySelectorAll('table.events tbody tr')].map((row) => row.getAttribute('data-event-id')).join() === want,
    [ids.update_ben_2h, ids.delete_ben_10d].join(),
  );
  // The last 24 hours: only the 2-hour-old one.
  await page.getByLabel('Date', { exact: true }).selectOption('24h');
  await page.waitForFunction((n) => document.querySelectorAll('table.events tbody tr').length === n, 1);
  assert.deepEqual(await rowIds(page), [ids.update_ben_2h]);
  const row = page.locator(`tr[data-event-id="${ids.update_ben_2h}"]`);
  assert.match(await row.innerText(), /document\.update/);
  assert.match(await row.innerText(), /Ben Baker/);
  assert.match(await row.innerText(), /u-ben/);
  assert.match(await row.locator('time').getAttribute('title'), /UTC$/);
});

let permalink;

test('details open from the keyboard and give a permalink', async () => {
  const page = alice;
  const row = page.locator(`tr[data-event-id="${ids.update_ben_2h}"]`);
  await row.focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('heading', { name: 'document.update' }).waitFor();
  for (const text of ['203.0.113.9', 'Mozilla/5.0 (seed)', 'req-document.update-2', 'ben@acme.test', '"hoursAgo"', '"Draft"']) {
    await dialog.getByText(text, { exact: false }).first().waitFor();
  }
  // Focus is inside and stays inside.
  for (let i = 0; i < 12; i++) await page.keyboard.press('Tab');
  assert.ok(await dialog.evaluate((node) => node.contains(document.activeElement)), 'focus trapped in the dialog');
  await axe(page, 'the details view');
  await screenshot(page, `${backend}-details`);
  permalink = await dialog.locator('.permalink-url').innerText();
  assert.equal(permalink, `${url}/events/${ids.update_ben_2h}`);
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.ok(await row.evaluate((node) => node === document.activeElement), 'focus back on the row');
});

test('the permalink shows the event to a team member and nothing to another tenant', async () => {
  // Bob (AUDITOR of acme) opens the link, signs in, lands on the event.
  const bob = await signedIn('bob', new URL(permalink).pathname);
  await bob.getByRole('dialog').getByRole('heading', { name: 'document.update' }).waitFor();
  assert.equal(new URL(bob.url()).pathname, `/events/${ids.update_ben_2h}`);
  await bob.getByRole('dialog').getByText('Ben Baker').first().waitFor();

  // Carol (beta) gets "not found", exactly as for an id that exists nowhere.
  const carol = await signedIn('carol', new URL(permalink).pathname);
  await carol.getByRole('heading', { name: 'Event not found' }).waitFor();
  const notFound = await carol.getByRole('dialog').innerText();
  await carol.goto(`${url}/events/00000000-0000-7000-8000-000000000000`);
  await carol.getByRole('heading', { name: 'Event not found' }).waitFor();
  assert.equal(await carol.getByRole('dialog').innerText(), notFound);
  // And Bob cannot open beta's event.
  await bob.goto(`${url}/events/${otherTenantEvent}`);
  await bob.getByRole('heading', { name: 'Event not found' }).waitFor();
  await axe(bob, 'event not found');

  // An AUDITOR has no settings: no link, and the page says so.
  assert.equal(await bob.getByRole('link', { name: 'Settings' }).count(), 0);
  assert.equal(await bob.getByRole('link', { name: 'Streams', exact: true }).count(), 0);
  await bob.goto(`${url}/settings`);
  await bob.getByRole('heading', { name: 'Not allowed' }).waitFor();
  assert.equal(await bob.getByLabel('Days to keep events').count(), 0);
  await axe(bob, 'settings refused to an AUDITOR');
  await screenshot(bob, `${backend}-auditor-settings`);
  await bob.context().close();
  await carol.context().close();
});

test('settings: an ADMIN changes retention and legal hold', async () => {
  const page = alice;
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Retention' }).waitFor();
  await axe(page, 'the settings page');
  await page.getByLabel('Days to keep events').fill('120');
  await page.getByRole('button', { name: 'Save retention' }).click();
  await page.getByText('Retention: saved.').waitFor();
  await page.locator('.retention-days', { hasText: '120 days' }).waitFor();
  await page.getByLabel('Reason for the hold').fill('litigation 2026-17');
  await page.getByRole('button', { name: 'Put on legal hold' }).click();
  await page.locator('.legal-hold', { hasText: 'On: litigation 2026-17' }).waitFor();
  await screenshot(page, `${backend}-settings`);

  const { tenant } = await gql(url, adminKey, 'query { tenant { retention { days legalHold legalHoldReason } } }');
  assert.deepEqual(tenant.retention, { days: 120, legalHold: true, legalHoldReason: 'litigation 2026-17' });
  const { auditEvents } = await gql(
    url,
    adminKey,
    'query { auditEvents(filter: { actions: ["retention.update", "legal_hold.enable"] }) { nodes { action actor { actorId name } } } }',
  );
  assert.deepEqual(
    auditEvents.nodes.map((e) => [e.action, e.actor.name]),
    [
      ['legal_hold.enable', 'Alice Admin'],
      ['retention.update', 'Alice Admin'],
    ],
  );

  // API keys: created with the secret shown once, revoked after a confirmation.
  await page.getByLabel('New key name').fill('browser-made');
  await page.getByRole('button', { name: 'Create key' }).click();
  const secret = await page.getByRole('textbox', { name: 'Secret' }).inputValue();
  assert.match(secret, /^alk_acme_/);
  await page.getByRole('button', { name: 'Done' }).click();
  await page.getByRole('button', { name: 'Revoke browser-made' }).click();
  await page.getByRole('button', { name: 'Yes, revoke' }).click();
  await page.getByText('Key revoked.').waitFor();
  const { apiKeys } = await gql(url, adminKey, 'query { apiKeys { name revokedAt } }');
  assert.ok(apiKeys.find((key) => key.name === 'browser-made')?.revokedAt, 'the key is revoked');

  // Log streams are an ADMIN's over the session cookie too.
  await page.getByRole('link', { name: 'Streams', exact: true }).click();
  await page.getByText('No streams yet.').waitFor();
});

test('live events over the session cookie', async () => {
  const page = alice;
  await page.goto(`${url}/?action=live.cookie`);
  await page.getByText('No events match these filters.').waitFor();
  await page.getByLabel('Live', { exact: true }).check();
  await page.locator('.live-state[data-state="live"]').waitFor();
  const { recordAuditEvents } = await gql(url, adminKey, RECORD, {
    events: [{ action: 'live.cookie', actor: { type: 'USER', id: 'u-ann', name: 'Ann Archer' } }],
  });
  await page.locator(`tr.new[data-event-id="${recordAuditEvents.events[0].id}"]`).waitFor();
  await page.getByLabel('Live', { exact: true }).uncheck();
});

test('export downloads the current filter', async () => {
  const page = alice;
  await page.goto(`${url}/?action=document.update`);
  await page.waitForFunction((n) => document.querySelectorAll('table.events tbody tr').length === n, 2);
  for (const format of ['CSV', 'NDJSON']) {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: `Export ${format}` }).click()]);
    const text = await readFile(await download.path(), 'utf8');
    if (format === 'NDJSON') {
      const lines = text.trim().split('\n').map((line) => JSON.parse(line));
      const manifest = lines.pop().manifest;
      assert.equal(manifest.complete, true);
      assert.deepEqual(manifest.filter, { actions: ['document.update'] });
      assert.deepEqual(lines.map((e) => e.id), [ids.update_ann_3d, ids.update_ben_2h]);
    } else {
      const [header, ...records] = parseCsv(text.replace(/^\uFEFF/, ''));
      assert.equal(header[0], 'id');
      const manifest = records.pop();
      assert.equal(manifest[0], '#manifest');
      assert.equal(JSON.parse(manifest[header.indexOf('payload')]).manifest.count, 2);
      assert.deepEqual(records.map((r) => r[0]), [ids.update_ann_3d, ids.update_ben_2h]);
    }
  }
});

test('an ended session shows the signed-out state, and sign-out works', async () => {
  const page = alice;
  // The session ends elsewhere (another tab signs out).
  const response = await page.context().request.post(`${url}/auth/logout`, { headers: { 'X-Requested-With': 'test' } });
  assert.equal(response.status(), 204);
  await page.getByLabel('Date', { exact: true }).selectOption('7d');
  await page.getByRole('heading', { name: 'Signed out' }).waitFor();
  await page.getByRole('link', { name: 'Sign in' }).waitFor();
  await axe(page, 'the signed-out page');
  await screenshot(page, `${backend}-signed-out`);
  // Back in, then out with the button.
  await page.getByRole('link', { name: 'Sign in' }).click();
  await providerSignIn(page, 'alice');
  await page.locator('header.top').getByText('Alice Admin').waitFor();
  assert.equal(new URL(page.url()).searchParams.get('range'), '7d', 'back where the person was');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  const { data } = await (await page.context().request.post(`${url}/graphql`, {
    headers: { 'X-Requested-With': 'test', 'content-type': 'application/json' },
    data: { query: '{ caller { role } }' },
  })).json();
  assert.equal(data, null, 'the cookie no longer works');
});
