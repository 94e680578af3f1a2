// urql 6 with graphcache 9 (relayPagination), fetchExchange and
// subscriptionExchange over graphql-ws, against a running auditlog server, in
// Node without React. Started by the Rust test `frontend_clients::urql_client`
// (same environment as apollo.test.mjs). The client set-up is the one
// docs/frontend.md shows.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client, fetchExchange, gql, subscriptionExchange } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';
import { relayPagination } from '@urql/exchange-graphcache/extras';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import {
  EVENTS_QUERY,
  FACETS_QUERY,
  RECORDED_SUBSCRIPTION,
  RECORD_MUTATION,
  actorCounts,
  adminKey,
  assertRowsMatch,
  env,
  eventInbox,
  httpUrl,
  liveEvents,
  record,
  seedSnapshots,
  stored,
  storedFacets,
  withTimeout,
  withoutTypename,
  wsUrl,
} from './fixtures.mjs';

const open = [];
after(async () => {
  for (const dispose of open.reverse()) await dispose();
});

/** The keys docs/frontend.md recommends: the embedded snapshot and facet types have no key. */
const SNAPSHOT_KEYS = {
  Actor: () => null,
  Target: () => null,
  ActorCount: () => null,
  ValueCount: () => null,
  EventContext: () => null,
  AuditEventFacets: () => null,
  RecordAuditEventsPayload: () => null,
  RetentionPolicy: () => null,
};

/** A urql client as docs/frontend.md sets it up; `keys: null` leaves graphcache's default keys. */
function urqlClient({ key = adminKey(), keys = SNAPSHOT_KEYS } = {}) {
  const wsClient = createClient({
    url: wsUrl(),
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${key}` },
    lazy: true,
    retryAttempts: 0,
  });
  const warnings = [];
  const client = new Client({
    url: httpUrl(),
    fetchOptions: { headers: { authorization: `Bearer ${key}` } },
    exchanges: [
      cacheExchange({
        ...(keys ? { keys } : {}),
        resolvers: { Query: { auditEvents: relayPagination() } },
        logger: (severity, message) => {
          if (severity === 'warn' || severity === 'error') warnings.push(message);
        },
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || '' };
          return {
            subscribe(sink) {
              const unsubscribe = wsClient.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
  open.push(() => wsClient.dispose());
  return { client, warnings };
}

const EVENTS = gql(EVENTS_QUERY);
const RECORD = gql(RECORD_MUTATION);
const RECORDED = gql(RECORDED_SUBSCRIPTION);

async function query(client, document, variables, context) {
  const result = await withTimeout(client.query(document, variables, context).toPromise(), 'a urql query');
  assert.equal(result.error, undefined, String(result.error));
  return result.data;
}

let seeded;
const seed = () => (seeded ??= seedSnapshots('urql.doc.'));

async function pageThrough(keys) {
  const { filter, stored: rows, inputsBySequence } = await seed();
  const { client, warnings } = urqlClient({ keys });
  let after = null;
  let connection;
  for (let page = 1; page <= 3; page++) {
    connection = (await query(client, EVENTS, { filter, first: 5, after })).auditEvents;
    // relayPagination returns every page fetched so far, merged.
    assert.equal(connection.edges.length, page * 5, `after page ${page} the merged list holds ${page * 5}`);
    assert.equal(connection.pageInfo.hasNextPage, page < 3);
    after = connection.pageInfo.endCursor;
  }
  const merged = connection.edges.map((edge) => edge.node);
  assertRowsMatch(merged, rows, inputsBySequence);
  assert.deepEqual(merged.map((n) => n.sequence), rows.map((r) => r.sequence), 'newest first, no duplicates');
  // The first page again, from the cache only: still as stored.
  const cached = (await query(client, EVENTS, { filter, first: 5, after: null }, { requestPolicy: 'cache-only' })).auditEvents;
  assertRowsMatch(
    cached.edges.map((edge) => edge.node),
    rows.slice(0, cached.edges.length),
    inputsBySequence,
  );
  return warnings;
}

test('graphcache default keys + relayPagination: 3 pages merge 15 events, each snapshot as stored', async () => {
  const warnings = await pageThrough(null);
  // Correct data, but graphcache warns about every keyless snapshot (hence
  // the recommended keys below).
  assert.ok(
    warnings.some((w) => /^Invalid key: .*`AuditEvent:[^`]*\.actor`/.test(w)),
    `graphcache warns about the keyless Actor: ${warnings.slice(0, 2)}`,
  );
});

test('graphcache with the recommended snapshot keys: the same, without warnings', async () => {
  const warnings = await pageThrough(SNAPSHOT_KEYS);
  assert.deepEqual(warnings, []);
});

test('auditEventFacets through graphcache equals the raw read, with the seeded counts', async () => {
  const { inputs } = await seed();
  const { client, warnings } = urqlClient();
  const data = await query(client, gql(FACETS_QUERY), {});
  assert.deepEqual(warnings, [], 'the recommended keys cover the facet types');
  assert.deepEqual(withoutTypename(data.auditEventFacets), await storedFacets());
  for (const [actorId, count] of Object.entries(actorCounts(inputs))) {
    const row = data.auditEventFacets.actors.find((a) => a.actorId === actorId);
    assert.ok(row, `a facet row for ${actorId}`);
    assert.equal(row.count, count, `${actorId}: ${count} events`);
  }
});

/** Subscribes through `client`; returns `{ next(n) (resolves with the first n events), stop }`. */
function subscribe(client, variables) {
  const inbox = eventInbox();
  const { unsubscribe } = client.subscription(RECORDED, variables).subscribe((result) =>
    result.error ? inbox.fail(result.error) : inbox.push(result.data.auditEventRecorded),
  );
  return { next: inbox.next, stop: unsubscribe };
}

async function mutate(client, events) {
  const result = await withTimeout(client.mutation(RECORD, { events }).toPromise(), 'a urql mutation');
  assert.equal(result.error, undefined, String(result.error));
  return result.data.recordAuditEvents.events;
}

test('subscriptionExchange: afterSequence replays, then live events arrive in sequence order, as stored', async () => {
  const { client } = urqlClient();
  const [marker] = await record(liveEvents('urql.live.', ['start']));
  const live = subscribe(client, { filter: { actionPrefix: 'urql.live.' }, afterSequence: marker.sequence });
  const sent = await mutate(client, liveEvents('urql.live.', ['a', 'b']));
  await live.next(1);
  sent.push(...(await mutate(client, liveEvents('urql.live.', ['c', 'd', 'e']))));
  const received = await live.next(5);
  live.stop();
  assert.deepEqual(received.map((e) => e.sequence), sent.map((e) => e.sequence), 'in sequence order, each once');
  assert.deepEqual(received.map((e) => e.action), ['a', 'b', 'c', 'd', 'e'].map((n) => `urql.live.${n}`));
  const rows = (await stored({ actionPrefix: 'urql.live.' })).reverse().slice(1);
  assert.deepEqual(withoutTypename(received), rows, 'every field as stored');
});

test('sequences past 2^32 are exact JS numbers through queries, mutations and the subscription', async () => {
  const key = env('AUDITLOG_HIGH_KEY');
  const counter = Number(env('AUDITLOG_HIGH_COUNTER'));
  assert.ok(counter > 2 ** 32 && Number.isSafeInteger(counter));
  const { client } = urqlClient({ key });
  const sequences = (await mutate(client, liveEvents('urql.high.', ['a', 'b', 'c']))).map((e) => e.sequence);
  assert.deepEqual(sequences, [counter + 1, counter + 2, counter + 3]);
  for (const s of sequences) assert.ok(Number.isSafeInteger(s) && s > 2 ** 32, `${s} is a safe integer past 2^32`);

  const listed = (await query(client, EVENTS, { filter: { actionPrefix: 'urql.high.' }, first: 5 }, { requestPolicy: 'network-only' })).auditEvents;
  assert.deepEqual(listed.edges.map((e) => e.node.sequence), [...sequences].reverse());

  const live = subscribe(client, { filter: { actionPrefix: 'urql.high.' }, afterSequence: counter + 1 });
  assert.deepEqual((await live.next(2)).map((e) => e.sequence), [counter + 2, counter + 3]);
  const more = await record(liveEvents('urql.high.', ['d']), key);
  const all = await live.next(3);
  live.stop();
  assert.equal(more[0].sequence, counter + 4);
  assert.equal(all[2].sequence, counter + 4);
  for (const e of all) assert.ok(Number.isSafeInteger(e.sequence) && e.sequence > 2 ** 32);
});
