// The graphql-ws reference client against a running auditlog server.
// Started by the Rust integration test `live::graphql_ws_reference_client`, which
// passes AUDITLOG_HTTP_URL, AUDITLOG_WS_URL and AUDITLOG_KEY (an ADMIN key).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const httpUrl = process.env.AUDITLOG_HTTP_URL;
const wsUrl = process.env.AUDITLOG_WS_URL;
const key = process.env.AUDITLOG_KEY;

async function record(actions) {
  const response = await fetch(httpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({
      query: 'mutation($e:[AuditEventInput!]!){ recordAuditEvents(events:$e){ events { sequence } } }',
      variables: { e: actions.map((action) => ({ action, actor: { type: 'USER', id: 'node' } })) },
    }),
  });
  const body = await response.json();
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data.recordAuditEvents.events.map((event) => event.sequence);
}

function client(authorization) {
  return createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: authorization ? { Authorization: authorization } : {},
    retryAttempts: 0,
    lazy: true,
  });
}

test('receives recorded events in sequence order', async () => {
  const ws = client(`Bearer ${key}`);
  const received = [];
  let resolveAll;
  const all = new Promise((resolve) => (resolveAll = resolve));
  let sawFirst;
  const ready = new Promise((resolve) => (sawFirst = resolve));
  const dispose = ws.subscribe(
    { query: 'subscription { auditEventRecorded(filter: {actionPrefix: "node."}, afterSequence: 0) { sequence action } }' },
    {
      next: ({ data, errors }) => {
        assert.equal(errors, undefined);
        received.push(data.auditEventRecorded);
        if (received.length === 1) sawFirst();
        if (received.length === 6) resolveAll();
      },
      error: (error) => assert.fail(`subscription error: ${JSON.stringify(error)}`),
      complete: () => {},
    },
  );
  // One event before the subscription exists (replayed), the rest live.
  await record(['node.first']);
  await ready;
  const live = await record(['node.a', 'node.b']);
  live.push(...(await record(['node.c', 'node.d', 'node.e'])));
  await all;
  dispose();
  await ws.dispose();
  const sequences = received.map((event) => event.sequence);
  assert.deepEqual([...sequences].sort((a, b) => a - b), sequences, 'in sequence order');
  assert.deepEqual(received.map((event) => event.action), ['node.first', 'node.a', 'node.b', 'node.c', 'node.d', 'node.e']);
  assert.deepEqual(sequences.slice(1), live);
});

test('a bad credential is refused with close code 4403', async () => {
  const ws = client('Bearer not-a-key');
  const closed = new Promise((resolve) => {
    ws.on('closed', (event) => resolve(event.code));
  });
  ws.subscribe({ query: 'subscription { auditEventRecorded { sequence } }' }, { next() {}, error() {}, complete() {} });
  assert.equal(await closed, 4403);
  await ws.dispose();
});
