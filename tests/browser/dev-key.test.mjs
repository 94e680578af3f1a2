// Development mode only: a person pastes an API key (run by
// tests/tests/api/viewer/development.rs). The key lives in this tab's
// sessionStorage: a reload keeps it, another tab does not see it, sign-out
// forgets it. With an ADMIN key, the log streams page manages a webhook
// stream to a receiver of this file's own.
//
// Environment: AUDITLOG_URL (the service, in development mode, private
// stream targets allowed), AUDITLOG_ADMIN_KEY (an ADMIN key of the tenant),
// AUDITLOG_AUDITOR_KEY (an AUDITOR key of a tenant with one seeded event),
// AUDITLOG_EVENT_ID (that event, the oldest), AUDITLOG_TOTAL (how many events the
// tenant has: that one, 60 entry.update about targets "article"/"page"
// `a-<i>` named "Launch <i>", every tenth a FAILURE, and its own), AUDITLOG_BACKEND.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, test } from 'node:test';

import { axe, gql, launch, screenshot, strictPage } from './lib.mjs';
import { startReceiver } from './servers.mjs';

const url = process.env.AUDITLOG_URL;
const adminKey = process.env.AUDITLOG_ADMIN_KEY;
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
  // An AUDITOR key: no settings, no streams.
  assert.equal(await page.getByRole('link', { name: 'Settings' }).count(), 0);
  assert.equal(await page.getByRole('link', { name: 'Streams', exact: true }).count(), 0);
  await page.goto(`${url}/settings/streams`);
  await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
  assert.equal(await page.getByLabel('Name', { exact: true }).count(), 0);

  await page.goto(`${url}/`);
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

/** Whether `header` (`webhook-signature`) has a Standard Webhooks signature by `secret` of the request. */
function signedBy(request, secret) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const signed = `${request.headers['webhook-id']}.${request.headers['webhook-timestamp']}.${request.body}`;
  const expected = `v1,${createHmac('sha256', key).update(signed).digest('base64')}`;
  return request.headers['webhook-signature'].split(' ').includes(expected);
}

/**
 * Does `action` until `done` shows. On SQLite one writer goes at a time, and a
 * change to a stream can meet its delivery's own write: the API then answers
 * UNAVAILABLE ("retry the request"), which the page shows as the failure's
 * message. Like a person, this tries again (at most 5 times).
 */
async function retrying(scope, action, done) {
  const unavailable = scope.getByText(/ failed: the database is unavailable/);
  for (let attempt = 1; ; attempt++) {
    await action();
    await done.or(unavailable).first().waitFor();
    if (await done.count()) return;
    assert.ok(attempt < 5, 'the database stayed unavailable');
  }
}

// Last: its self-audit events (log_stream.*) join the tenant's log.
test('log streams: an ADMIN makes a webhook stream, tests, pauses, replays, rotates and deletes it', async () => {
  const receiver = await startReceiver();
  const context = await browser.newContext();
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const page = await strictPage(context, problems);
  try {
    await page.goto(`${url}/`);
    await page.getByLabel('API key (development mode)').fill(adminKey);
    await page.getByRole('button', { name: 'Use key' }).click();
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('link', { name: 'Manage log streams' }).click();
    await page.getByRole('heading', { name: 'Log streams', level: 1 }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/settings/streams');
    assert.equal(await page.getByRole('link', { name: 'Streams', exact: true }).getAttribute('aria-current'), 'page');
    await page.getByText('No streams yet.').waitFor();

    // A refusal of the API is shown as its message; the form keeps what was typed.
    const nameField = page.getByLabel('Name', { exact: true });
    await nameField.fill('Wrong scheme');
    await page.getByLabel('URL', { exact: true }).fill('ftp://127.0.0.1/hook');
    await page.getByRole('button', { name: 'Create stream' }).click();
    await page.getByText(/^Creating the stream failed: input\.url scheme "ftp" is not https/).waitFor();
    assert.equal(await nameField.inputValue(), 'Wrong scheme');

    // The Splunk fields are there for SPLUNK_HEC only.
    assert.equal(await page.getByLabel('Splunk HEC token').count(), 0);
    await page.getByLabel('Kind').selectOption('SPLUNK_HEC');
    await page.getByLabel('Splunk HEC token').waitFor();
    await page.getByLabel('Splunk index').waitFor();
    await axe(page, 'the new stream form for Splunk');
    await screenshot(page, `${backend}-streams-new`);
    await page.getByLabel('Kind').selectOption('WEBHOOK');
    assert.equal(await page.getByLabel('Splunk HEC token').count(), 0);

    // Markup in a name stays text.
    const name = 'SIEM <b>hook</b>';
    await nameField.fill(name);
    await page.getByLabel('URL', { exact: true }).fill(receiver.url);
    await page.getByLabel('Batch size').fill('50');
    await page.getByLabel('Actions', { exact: true }).fill('entry.update, user.login');
    const shown = page.getByRole('region', { name: `Signing secret of ${name}` });
    await retrying(page, () => page.getByRole('button', { name: 'Create stream' }).click(), shown);
    const secret = await shown.getByRole('textbox', { name: 'Secret' }).inputValue();
    assert.match(secret, /^whsec_/);
    await shown.getByText('will not be shown again').waitFor();
    await shown.getByRole('button', { name: 'Copy secret' }).click();
    await page.getByText('Secret copied.').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
    assert.equal(await nameField.inputValue(), '', 'the form is cleared');

    const stream = page.getByRole('article', { name });
    await stream.locator('.state', { hasText: 'ACTIVE' }).waitFor();
    const text = await stream.locator('dl').innerText();
    assert.match(text, /Kind\s+WEBHOOK/);
    assert.ok(text.includes(receiver.url), text);
    assert.match(text, /actions: entry\.update, user\.login, at most 50 a delivery/);
    assert.equal(await stream.locator('h3 b').count(), 0, 'no markup from the API');
    await shown.getByRole('button', { name: 'Done' }).click();
    assert.equal(await page.getByRole('textbox', { name: 'Secret' }).count(), 0);
    await page.reload();
    await stream.waitFor();
    assert.equal(await page.getByRole('textbox', { name: 'Secret' }).count(), 0, 'shown once');

    // The test delivery reaches the receiver, signed with that secret.
    const sendTest = () => stream.getByRole('button', { name: `Send test delivery to ${name}` }).click();
    await retrying(stream, sendTest, stream.getByText(/^Test delivery: DELIVERED, HTTP 204, \d+ ms\.$/));
    const tests = () => receiver.requests.filter((r) => JSON.parse(r.body).type === 'audit_events.test');
    assert.ok(tests().length >= 1);
    assert.ok(signedBy(tests().at(-1), secret), 'signed with the secret shown');
    await stream.getByText('Recent deliveries').click();
    const testRow = stream.locator('table.deliveries tbody tr', { hasText: 'test' }).first();
    await testRow.waitFor();
    assert.match(await testRow.innerText(), /DELIVERED\s+test\s+\d+–\d+\s+0\s+1\s+204\s+\d+ ms/);
    await axe(page, 'the streams page');
    await screenshot(page, `${backend}-streams`);

    // Pause and resume.
    await retrying(stream, () => stream.getByRole('button', { name: `Pause ${name}` }).click(), stream.locator('.state', { hasText: 'PAUSED' }));
    const state = async () => (await gql(url, adminKey, '{ logStreams { state } }')).logStreams[0].state;
    assert.equal(await state(), 'PAUSED');
    await retrying(stream, () => stream.getByRole('button', { name: `Resume ${name}` }).click(), stream.locator('.state', { hasText: 'ACTIVE' }));
    assert.equal(await state(), 'ACTIVE');

    // Replay from the beginning, after a confirmation: the matching events
    // arrive, 50 a delivery.
    await stream.getByLabel('Replay after sequence').fill('0');
    await retrying(
      stream,
      async () => {
        await stream.getByRole('button', { name: `Replay ${name}` }).click();
        await stream.getByRole('button', { name: 'Yes, replay' }).click();
      },
      stream.getByText('Replaying after sequence 0.'),
    );
    // (At least once: a sequence may come twice.)
    const delivered = () =>
      new Set(receiver.requests.flatMap((r) => JSON.parse(r.body).events ?? []).filter((e) => e.action === 'entry.update').map((e) => e.sequence));
    for (let i = 0; i < 300 && delivered().size < 60; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(delivered().size, 60, 'the 60 entry.update events');
    assert.ok(receiver.requests.every((r) => signedBy(r, secret)));

    // A new secret: shown once; for 24 hours both sign.
    const rotated = page.getByRole('region', { name: `New signing secret of ${name}` });
    await retrying(
      stream,
      async () => {
        await stream.getByRole('button', { name: `Rotate secret ${name}` }).click();
        await stream.getByRole('button', { name: 'Yes, rotate' }).click();
      },
      rotated,
    );
    const secret2 = await rotated.getByRole('textbox', { name: 'Secret' }).inputValue();
    assert.match(secret2, /^whsec_/);
    assert.notEqual(secret2, secret);
    await rotated.getByText(/For 24 hours .* both signatures/).waitFor();
    await rotated.getByRole('button', { name: 'Done' }).click();
    const before = tests().length;
    await retrying(stream, sendTest, stream.getByText(/^Test delivery: DELIVERED/));
    const last = tests().at(-1);
    assert.ok(tests().length > before);
    assert.ok(signedBy(last, secret) && signedBy(last, secret2), 'signed with both secrets');

    // Delete, after a confirmation.
    await retrying(
      page,
      async () => {
        await stream.getByRole('button', { name: `Delete ${name}` }).click();
        await stream.getByRole('button', { name: 'Yes, delete' }).click();
      },
      page.getByText(`Stream ${name} deleted.`),
    );
    await page.getByText('No streams yet.').waitFor();
    assert.deepEqual((await gql(url, adminKey, '{ logStreams { id } }')).logStreams, []);
  } finally {
    await context.close();
    await receiver.close();
  }
});
