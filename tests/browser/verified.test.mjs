// The details panel's "Verify" (run by tests/tests/api/viewer/verified.rs):
// the viewer checks, in the browser, an event's leaf, its inclusion proof
// and the signed head's Ed25519 signature (api/viewer/src/verify.js); a
// tampered event fails naming the leaf-hash check; an event newer than the
// latest head cannot be verified yet. The list itself never verifies. And
// the JCS function against RFC 8785's examples, in Node and in Chromium.
//
// Environment: AUDITLOG_URL (development mode), AUDITLOG_AUDITOR_KEY,
// AUDITLOG_VERIFIED_ID (an intact event under the head), AUDITLOG_TAMPERED_ID
// (one whose payload was changed in the database after the head),
// AUDITLOG_PENDING_ID (one recorded after the head), AUDITLOG_TREE_SIZE (the
// head's), AUDITLOG_BACKEND.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { jcs, micros, rootFromPath, toHex } from '../../api/viewer/src/verify.js';
import { axe, launch, screenshot, strictPage } from './lib.mjs';

const url = process.env.AUDITLOG_URL;
const key = process.env.AUDITLOG_AUDITOR_KEY;
const treeSize = process.env.AUDITLOG_TREE_SIZE;
const backend = process.env.AUDITLOG_BACKEND ?? 'backend';

// RFC 8785 §3.2.3's example, and numbers of its Appendix B (IEEE 754 bits → text).
const RFC_INPUT = String.raw`{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}`;
const RFC_OUTPUT = String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`;
const NUMBERS = [
  ['0000000000000000', '0'],
  ['8000000000000000', '0'],
  ['0000000000000001', '5e-324'],
  ['8000000000000001', '-5e-324'],
  ['7fefffffffffffff', '1.7976931348623157e+308'],
  ['4340000000000000', '9007199254740992'],
  ['c340000000000000', '-9007199254740992'],
  ['4430000000000000', '295147905179352830000'],
  ['444b1ae4d6e2ef50', '1e+21'],
  ['3eb0c6f7a0b5ed8d', '0.000001'],
  ['3fb999999999999a', '0.1'],
];
const fromBits = (hex) => new DataView(Uint8Array.from(hex.match(/../g), (b) => parseInt(b, 16)).buffer).getFloat64(0);
// RFC 8785 §3.2.3: sorted by UTF-16 code units, so U+1F600 (D83D DE00) sorts before U+FB33.
const SORT_INPUT = { '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', 1: 'One', '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis' };
const SORT_KEYS = ['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33'];

/** Every assertion of the JCS checks, given the function (in Node or in the page). */
function jcsCases(canonical, fromBitsSource) {
  const bits = new Function(`return (${fromBitsSource})`)();
  const results = [];
  results.push([canonical(JSON.parse(RFC_INPUT)), RFC_OUTPUT]);
  for (const [hex, text] of NUMBERS) results.push([canonical(bits(hex)), text]);
  results.push([canonical(SORT_INPUT), `{${SORT_KEYS.map((k) => `${JSON.stringify(k)}:${JSON.stringify(SORT_INPUT[k])}`).join(',')}}`]);
  results.push([canonical({ b: { d: [{ z: 1, a: 2 }], c: null }, a: [] }), '{"a":[],"b":{"c":null,"d":[{"a":2,"z":1}]}}']);
  return results;
}

test('JCS (RFC 8785): the RFC examples, numbers, UTF-16 key order, nesting, in Node and in Chromium', async () => {
  for (const [got, want] of jcsCases(jcs, fromBits.toString())) assert.equal(got, want);
  assert.throws(() => jcs(Number.NaN));
  assert.equal(micros('2026-12-03T18:54:19.1234Z'), '2026-12-03T18:54:19.123400Z');
  assert.equal(micros('2026-12-03T20:54:19+02:00'), '2026-12-03T18:54:19.000000Z');

  // The same function in the browser's engine.
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const inPage = await page.evaluate(
      ({ source, casesSource, fromBitsSource, data }) => {
        Object.assign(globalThis, data);
        const canonical = new Function(`${source}; return jcs;`)();
        return new Function(`return (${casesSource})`)()(canonical, fromBitsSource);
      },
      { source: jcs.toString(), casesSource: jcsCases.toString(), fromBitsSource: fromBits.toString(), data: { RFC_INPUT, RFC_OUTPUT, NUMBERS, SORT_INPUT, SORT_KEYS } },
    );
    for (const [got, want] of inPage) assert.equal(got, want);
  } finally {
    await browser.close();
  }
});

/** MTH and PATH of RFC 9162 §2.1.1 and §2.1.3.1, literally, over hex hashes. */
async function sha(...hex) {
  const bytes = Uint8Array.from(hex.join('').match(/../g) ?? [], (b) => parseInt(b, 16));
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)));
}
const split = (n) => 2 ** Math.floor(Math.log2(n - 1));
async function mth(leaves) {
  if (leaves.length === 1) return leaves[0];
  const k = split(leaves.length);
  return sha('01', await mth(leaves.slice(0, k)), await mth(leaves.slice(k)));
}
async function path(m, leaves) {
  if (leaves.length === 1) return [];
  const k = split(leaves.length);
  return m < k
    ? [...(await path(m, leaves.slice(0, k))), await mth(leaves.slice(k))]
    : [...(await path(m - k, leaves.slice(k))), await mth(leaves.slice(0, k))];
}

test('inclusion proofs (RFC 9162 §2.1.3.2): every leaf of trees of 1 to 12 leaves, and wrong ones', async () => {
  const leaves = await Promise.all(Array.from({ length: 12 }, (_, i) => sha('00', i.toString(16).padStart(2, '0'))));
  for (let n = 1; n <= 12; n++) {
    const tree = leaves.slice(0, n);
    const root = await mth(tree);
    for (let m = 0; m < n; m++) {
      const audit = await path(m, tree);
      assert.equal(await rootFromPath(m, n, tree[m], audit), root, `leaf ${m} of ${n}`);
      if (n > 1) {
        assert.notEqual(await rootFromPath((m + 1) % n, n, tree[m], audit), root, `leaf ${m} of ${n} at another index`);
        assert.equal(await rootFromPath(m, n, tree[m], [...audit, root]), null, 'a path too long');
      }
    }
  }
  assert.equal(await rootFromPath(3, 3, leaves[0], []), null, 'an index outside the tree');
});

let browser;
const problems = [];
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
  assert.deepEqual(problems, [], 'no dialog, page error or CSP violation');
});

/** A page signed in with the key, counting what it asks of the tree. */
async function signedIn() {
  const context = await browser.newContext();
  const page = await strictPage(context, problems);
  const asked = { keys: 0, proofs: 0, heads: 0 };
  page.on('request', (request) => {
    if (request.url().endsWith('/.well-known/auditlog-keys.json')) asked.keys++;
    const body = request.postData() ?? '';
    if (body.includes('inclusionProof')) asked.proofs++;
    if (body.includes('auditLogTreeHead')) asked.heads++;
  });
  await page.goto(`${url}/`);
  await page.getByLabel('API key (development mode)').fill(key);
  await page.getByRole('button', { name: 'Use key' }).click();
  await page.locator('table.events tbody tr').first().waitFor();
  return { context, page, asked };
}

const verification = (page) => page.getByRole('region', { name: 'Integrity' });

test('an intact event: Verify shows "Verified" and what was checked', async () => {
  const { context, page, asked } = await signedIn();
  await page.locator(`tr[data-event-id="${process.env.AUDITLOG_VERIFIED_ID}"]`).click();
  const panel = verification(page);
  await panel.getByRole('button', { name: 'Verify' }).waitFor();
  assert.deepEqual(asked, { keys: 0, proofs: 0, heads: 0 }, 'nothing is verified before Verify');
  await panel.getByRole('button', { name: 'Verify' }).click();
  const status = panel.getByRole('status');
  await status.getByText('Verified', { exact: true }).waitFor();
  assert.deepEqual(asked, { keys: 1, proofs: 1, heads: 1 });
  const text = await status.innerText();
  assert.match(text, new RegExp(`Tree size\\s+${treeSize}\\b`));
  assert.match(text, /Key id\s+[A-Za-z0-9_-]{43}/);
  assert.match(text, /Signed\s+\S/);
  assert.match(text, /Passed: the event's contents match its leaf hash\./);
  assert.match(text, /Passed: the proof leads to the signed root\./);
  assert.match(text, /Passed: the head's signature verifies\./);
  assert.doesNotMatch(text, /Failed/);
  // The root: shortened, whole on hover and when expanded.
  const root = status.locator('details.hash summary');
  const full = await root.getAttribute('title');
  assert.match(full, /^[0-9a-f]{64}$/);
  assert.equal(await root.innerText(), `${full.slice(0, 16)}…`);
  await root.click();
  await status.locator('details.hash code.full', { hasText: full }).waitFor();
  await axe(page, 'the details panel with a verified event');
  await screenshot(page, `${backend}-verified`);
  await context.close();
});

test('a tampered event fails the leaf-hash check; the tree and the head still check out', async () => {
  const { context, page } = await signedIn();
  await page.goto(`${url}/events/${process.env.AUDITLOG_TAMPERED_ID}`);
  const panel = verification(page);
  await panel.getByRole('button', { name: 'Verify' }).click();
  const status = panel.getByRole('status');
  await status.getByText('Not verified', { exact: true }).waitFor();
  const text = await status.innerText();
  assert.match(text, /Not verified Failed check: the event's contents do not match its leaf hash\./);
  assert.match(text, /Failed: the event's contents do not match its leaf hash\./);
  assert.match(text, /Passed: the proof leads to the signed root\./);
  assert.match(text, /Passed: the head's signature verifies\./);
  assert.equal(await status.getByText('Verified', { exact: true }).count(), 0);
  await axe(page, 'the details panel with a failed verification');
  await screenshot(page, `${backend}-verify-failed`);
  await context.close();
});

test('an event newer than the latest head cannot be verified yet', async () => {
  const { context, page } = await signedIn();
  await page.goto(`${url}/events/${process.env.AUDITLOG_PENDING_ID}`);
  const panel = verification(page);
  await panel.getByRole('button', { name: 'Verify' }).click();
  const status = panel.getByRole('status');
  await status.getByText('Cannot be verified yet', { exact: true }).waitFor();
  assert.match(await status.innerText(), new RegExp(`latest covers sequences up to ${treeSize}\\).*signed every minute`));
  await panel.getByRole('button', { name: 'Verify again' }).waitFor();
  await axe(page, 'the details panel with an event not yet covered');
  await context.close();
});
