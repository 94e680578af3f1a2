// A SaaS page on another origin embeds the viewer with a viewer token (run by
// tests/tests/api/viewer/embedded.rs).
//
// Environment: AUDITLOG_URL (the service), AUDITLOG_RELAY_PORT (the relay in
// front of it, the service's public URL, where the browser goes),
// AUDITLOG_EMBEDDER_PORT (the SaaS page's origin, in AUDITLOG_FRAME_ANCESTORS
// and AUDITLOG_CORS_ORIGINS), AUDITLOG_ADMIN_KEY (to record events),
// AUDITLOG_TOKEN (an AUDITOR viewer token), AUDITLOG_RENEWED_TOKEN (another,
// for the same person, named "Sam Renewed"), AUDITLOG_HOSTILE_ID and
// AUDITLOG_HOSTILE (an event whose every string holds that markup),
// AUDITLOG_DEMO_KEY and AUDITLOG_DEMO_TOKEN (an ADMIN key and an ADMIN
// viewer token of an empty tenant, for the demo data).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { axe, demoEvents, launch, record, rowIds, screenshot, strictPage } from './lib.mjs';
import { startPages, startRelay } from './servers.mjs';

const url = process.env.AUDITLOG_URL;
const adminKey = process.env.AUDITLOG_ADMIN_KEY;
const token = process.env.AUDITLOG_TOKEN;
const hostileId = process.env.AUDITLOG_HOSTILE_ID;
const hostile = process.env.AUDITLOG_HOSTILE;
const backend = process.env.AUDITLOG_BACKEND ?? 'backend';

let browser;
let relay;
let saas;
const problems = [];

/** The SaaS page: the viewer in an iframe; with `postMessage`, tokens handed over on request. */
function embeddingPage(viewer, tokens) {
  const script = tokens
    ? `<script>
  window.received = [];
  const tokens = ${JSON.stringify(tokens)};
  window.addEventListener('message', (event) => {
    if (event.origin !== ${JSON.stringify(viewer)}) return;
    window.received.push(event.data.type);
    if (event.data.type === 'auditlog:ready' || event.data.type === 'auditlog:token-expired') {
      const next = tokens.shift();
      if (next) document.getElementById('viewer').contentWindow.postMessage({ type: 'auditlog:token', token: next }, ${JSON.stringify(viewer)});
    }
  });
</script>`
    : '';
  const src = tokens ? `${viewer}/` : `${viewer}/#token=${encodeURIComponent(token)}`;
  return `<!doctype html><html lang="en"><head><title>SaaS audit page</title></head><body>
<h1>Our SaaS: audit log</h1>
<iframe id="viewer" title="Audit log" src="${src}" style="width: 1200px; height: 700px; border: 0"></iframe>
${script}
</body></html>`;
}

before(async () => {
  relay = await startRelay(Number(process.env.AUDITLOG_RELAY_PORT), url);
  saas = await startPages(Number(process.env.AUDITLOG_EMBEDDER_PORT), {
    '/postmessage.html': embeddingPage(relay.origin, ['not-a-viewer-token', token]),
    '/fragment.html': embeddingPage(relay.origin, null),
  });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await relay?.close();
  await saas?.close();
  assert.deepEqual(problems, [], 'no dialog, page error or CSP violation');
});

async function page() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 760 } });
  return strictPage(context, problems);
}

test('a viewer token by postMessage, after one that does not work', async () => {
  const p = await page();
  await p.goto(`${saas.origin}/postmessage.html`);
  const frame = p.frameLocator('#viewer');
  await frame.locator(`tr[data-event-id="${hostileId}"]`).waitFor();
  await frame.locator('header.top').getByText('Sam SaaS').waitFor();
  assert.deepEqual(await p.evaluate(() => window.received), ['auditlog:ready', 'auditlog:token-expired']);
  // Viewer tokens cannot make keys: an AUDITOR sees no settings either.
  assert.equal(await frame.getByRole('link', { name: 'Settings' }).count(), 0);
  await axe(p, 'the embedded viewer');
  await screenshot(p, `${backend}-embedded-postmessage`);

  // The page renews the token before it expires: the viewer takes it in
  // place (same list, live feed still on) and uses it from then on.
  await frame.getByLabel('Live', { exact: true }).check();
  await frame.locator('.live-state[data-state="live"]').waitFor();
  await p.evaluate(
    ([viewer, next]) => document.getElementById('viewer').contentWindow.postMessage({ type: 'auditlog:token', token: next }, viewer),
    [relay.origin, process.env.AUDITLOG_RENEWED_TOKEN],
  );
  await frame.locator('header.top').getByText('Sam Renewed').waitFor();
  assert.ok(await frame.getByLabel('Live', { exact: true }).isChecked(), 'the live feed stayed on');
  const [after] = await record(url, adminKey, [{ action: 'after.renewal', actor: { type: 'USER', id: 'u-r' } }]);
  await frame.locator(`tr.new[data-event-id="${after.id}"]`).waitFor();
  await p.context().close();
});

test('a viewer token in the URL fragment, removed from the URL', async () => {
  const p = await page();
  await p.goto(`${saas.origin}/fragment.html`);
  const frame = p.frameLocator('#viewer');
  await frame.locator(`tr[data-event-id="${hostileId}"]`).waitFor();
  const viewer = p.frames().find((f) => f.url().startsWith(relay.origin));
  assert.ok(viewer && !viewer.url().includes('token'), `the fragment is gone: ${viewer?.url()}`);

  // A message from any other origin (here the viewer's own) is ignored.
  const alone = await page();
  await alone.goto(`${relay.origin}/`);
  await alone.getByRole('heading', { name: 'Sign in' }).waitFor();
  await alone.evaluate((t) => window.postMessage({ type: 'auditlog:token', token: t }, '*'), token);
  await alone.waitForTimeout(500);
  assert.equal(await alone.locator('table.events').count(), 0);
  await alone.getByRole('heading', { name: 'Sign in' }).waitFor();
  // Production mode: no API key may be pasted.
  assert.equal(await alone.getByLabel('API key (development mode)').count(), 0);
  await axe(alone, 'the sign-in page without a way in');
  await p.context().close();
  await alone.context().close();
});

test('live: new events at the top, once each, also after the connection drops', async () => {
  const p = await page();
  await p.goto(`${relay.origin}/#token=${encodeURIComponent(token)}`);
  await p.locator(`tr[data-event-id="${hostileId}"]`).waitFor();
  const before = (await rowIds(p)).length;
  await p.getByLabel('Live', { exact: true }).check();
  await p.locator('.live-state[data-state="live"]').waitFor();
  const live = (action) => ({ action, actor: { type: 'USER', id: 'u-live', name: 'Live Lou' } });

  const [first] = await record(url, adminKey, [live('live.first')]);
  await p.locator(`tr.new[data-event-id="${first.id}"]`).waitFor();
  assert.equal((await rowIds(p))[0], first.id);
  await p.locator(`tr[data-event-id="${first.id}"] .badge`, { hasText: 'new' }).waitFor();

  // The connection drops and stays down while three events are recorded.
  relay.hold(true);
  relay.cut();
  await p.locator('.live-state[data-state="reconnecting"]').waitFor();
  const meanwhile = await record(url, adminKey, [live('live.second'), live('live.third'), live('live.fourth')]);
  relay.hold(false);
  await p.locator('.live-state[data-state="live"]').waitFor({ timeout: 15_000 });
  for (const event of meanwhile) await p.locator(`tr[data-event-id="${event.id}"]`).waitFor();
  // And one more on the new connection.
  const [last] = await record(url, adminKey, [live('live.fifth')]);
  await p.locator(`tr[data-event-id="${last.id}"]`).waitFor();
  await screenshot(p, `${backend}-live`);

  // Each once, newest first (the viewer's own reads, audit_log.view, may show up too).
  const ids = await rowIds(p);
  const recorded = [last, ...meanwhile.slice().reverse(), first].map((e) => e.id);
  assert.deepEqual(ids.filter((id) => recorded.includes(id)), recorded);
  assert.equal(new Set(ids).size, ids.length, 'no row twice');
  assert.ok(ids.length >= before + 5);
  await axe(p, 'the live list');
  await p.context().close();
});

test('an unreachable service shows the error with Retry', async () => {
  const p = await page();
  await p.goto(`${relay.origin}/#token=${encodeURIComponent(token)}`);
  await p.locator(`tr[data-event-id="${hostileId}"]`).waitFor();
  relay.hold(true);
  relay.cut();
  await p.getByLabel('Outcome', { exact: true }).selectOption('SUCCESS');
  await p.getByRole('alert').getByText('The audit log is unavailable right now.').waitFor();
  await screenshot(p, `${backend}-unavailable`);
  relay.hold(false);
  await p.getByRole('button', { name: 'Retry' }).click();
  await p.locator(`tr[data-event-id="${hostileId}"]`).waitFor();
  await p.context().close();
});

test('hostile data renders as text and runs nothing', async () => {
  const p = await page();
  await p.goto(`${relay.origin}/#token=${encodeURIComponent(token)}`);
  const row = p.locator(`tr[data-event-id="${hostileId}"]`);
  await row.waitFor();
  assert.ok((await row.innerText()).includes(hostile), 'the name, id and target show the markup');
  await row.click();
  const dialog = p.getByRole('dialog');
  await dialog.getByText('Payload').waitFor();
  const text = await dialog.innerText();
  // Actor id, name, email; target type, id, name; user agent, request id; payload keys and values.
  assert.ok(text.split(hostile).length - 1 >= 8, `the markup shown literally:\n${text}`);
  assert.ok(text.includes(JSON.stringify(hostile)), 'payload strings as JSON text');
  assert.equal(await p.locator('img').count(), 0, 'no img element was made');
  assert.equal(await p.locator('script').count(), 1, 'only the app script');
  assert.equal(await p.evaluate(() => window.__xss), undefined, 'no injected script ran');
  await axe(p, 'details with hostile data');
  await screenshot(p, `${backend}-hostile`);
  await p.context().close();
});

test('demo data, with the details open (the README picture)', async () => {
  const recorded = await record(url, process.env.AUDITLOG_DEMO_KEY, demoEvents());
  // An event near the top, so the picture needs no scrolling.
  const share = recorded.find((e) => e.action === 'role.update');
  const p = await page();
  await p.goto(`${relay.origin}/#token=${encodeURIComponent(process.env.AUDITLOG_DEMO_TOKEN)}`);
  await p.locator(`tr[data-event-id="${share.id}"]`).waitFor();
  await p.locator(`tr[data-event-id="${share.id}"]`).click();
  await p.getByRole('dialog').getByText('Payload').waitFor();
  await screenshot(p, `${backend}-readme`);
  // An ADMIN viewer token sees the retention settings, not the key forms.
  await p.keyboard.press('Escape');
  await p.getByRole('link', { name: 'Settings' }).click();
  await p.getByRole('heading', { name: 'Retention' }).waitFor();
  assert.equal(await p.getByLabel('New key name').count(), 0);
  await axe(p, 'settings through a viewer token');
  // Log streams are not a viewer token's (the API answers FORBIDDEN).
  await p.getByRole('link', { name: 'Streams', exact: true }).click();
  await p.getByText("Log streams are managed by your organization's administrators.").waitFor();
  assert.equal(await p.getByLabel('Name', { exact: true }).count(), 0);
  await axe(p, 'streams through a viewer token');
  await p.context().close();
});
