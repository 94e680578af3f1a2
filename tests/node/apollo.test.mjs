// Apollo Client 4 (InMemoryCache, HttpLink split with GraphQLWsLink,
// PersistedQueryLink) against a running auditlog server, in Node without React.
// Started by the Rust test `frontend_clients::apollo_client`, which passes
// AUDITLOG_HTTP_URL, AUDITLOG_WS_URL, AUDITLOG_KEY (ADMIN) and, for a second
// tenant whose counter starts past 2^32, AUDITLOG_HIGH_KEY and
// AUDITLOG_HIGH_COUNTER. The client set-up is the one docs/frontend.md shows.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ApolloClient, HttpLink, InMemoryCache, gql, split } from '@apollo/client';
import { relayStylePagination, getMainDefinition } from '@apollo/client/utilities';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import {
  EVENTS_QUERY,
  EVENT_FIELDS,
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
  rawPost,
  record,
  recordingFetch,
  seedSnapshots,
  stored,
  storedFacets,
  withoutTypename,
  wsUrl,
} from './fixtures.mjs';

const sha256 = (text) => createHash('sha256').update(text).digest('hex');

const open = [];
after(async () => {
  for (const dispose of open.reverse()) await dispose();
});

/** An Apollo client as docs/frontend.md sets it up (options: `relay`, `persisted`, `fetch`). */
function apolloClient({ key = adminKey(), relay = false, persisted = null, fetch = globalThis.fetch } = {}) {
  const wsClient = createClient({
    url: wsUrl(),
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${key}` },
    lazy: true,
    retryAttempts: 0,
  });
  let httpLink = new HttpLink({ uri: httpUrl(), fetch, headers: { authorization: `Bearer ${key}` } });
  if (persisted) {
    httpLink = new PersistedQueryLink({ sha256, useGETForHashedQueries: persisted === 'GET' }).concat(httpLink);
  }
  const link = split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
    },
    new GraphQLWsLink(wsClient),
    httpLink,
  );
  const cache = relay
    ? new InMemoryCache({ typePolicies: { Query: { fields: { auditEvents: relayStylePagination(['filter']) } } } })
    : new InMemoryCache();
  const client = new ApolloClient({ link, cache });
  open.push(async () => {
    client.stop();
    await wsClient.dispose();
  });
  return client;
}

const EVENTS = gql(EVENTS_QUERY);
const RECORD = gql(RECORD_MUTATION);
const RECORDED = gql(RECORDED_SUBSCRIPTION);

let seeded;
const seed = () => (seeded ??= seedSnapshots('apollo.doc.'));

test('relayStylePagination: fetchMore over 3 pages merges all 15 events in order, each snapshot as stored', async () => {
  const { filter, stored: rows, inputsBySequence } = await seed();
  const client = apolloClient({ relay: true });
  const first = await client.query({ query: EVENTS, variables: { filter, first: 5 } });
  assert.equal(first.data.auditEvents.edges.length, 5);
  let current = first.data.auditEvents;
  const watched = client.watchQuery({ query: EVENTS, variables: { filter, first: 5 } });
  for (let page = 2; page <= 3; page++) {
    assert.equal(current.pageInfo.hasNextPage, true, `page ${page - 1} has a next page`);
    await watched.fetchMore({ variables: { after: current.pageInfo.endCursor } });
    current = client.readQuery({ query: EVENTS, variables: { filter, first: 5 } }).auditEvents;
    assert.equal(current.edges.length, page * 5, `after page ${page} the merged list holds ${page * 5}`);
  }
  assert.equal(current.pageInfo.hasNextPage, false, 'three pages hold all 15');
  const merged = current.edges.map((edge) => edge.node);
  assertRowsMatch(merged, rows, inputsBySequence);
  // The merged list is the server's order: newest first, no duplicates.
  assert.deepEqual(merged.map((n) => n.sequence), rows.map((r) => r.sequence));
});

test('default InMemoryCache: 3 separate page queries show each snapshot as stored', async () => {
  const { filter, stored: rows, inputsBySequence } = await seed();
  const client = apolloClient();
  const pages = [];
  let after = null;
  for (let page = 1; page <= 3; page++) {
    const { data } = await client.query({ query: EVENTS, variables: { filter, first: 5, after } });
    pages.push(data.auditEvents.edges.map((edge) => edge.node));
    after = data.auditEvents.pageInfo.endCursor;
    assert.equal(data.auditEvents.pageInfo.hasNextPage, page < 3);
  }
  // Read back every page from the cache (after all three are in it): rows of
  // one actor id written by later pages must not have changed earlier ones.
  const cachedPages = [];
  after = null;
  for (let page = 1; page <= 3; page++) {
    const { data } = await client.query({ query: EVENTS, variables: { filter, first: 5, after }, fetchPolicy: 'cache-only' });
    cachedPages.push(data.auditEvents.edges.map((edge) => edge.node));
    after = data.auditEvents.pageInfo.endCursor;
  }
  assertRowsMatch(pages.flat(), rows, inputsBySequence);
  assertRowsMatch(cachedPages.flat(), rows, inputsBySequence);
});

test('auditEventFacets through the cache equals the raw read, with the seeded counts', async () => {
  const { inputs } = await seed();
  const client = apolloClient();
  const { data } = await client.query({ query: gql(FACETS_QUERY) });
  const raw = await storedFacets();
  assert.deepEqual(withoutTypename(data.auditEventFacets), raw);
  const counts = actorCounts(inputs);
  for (const [actorId, count] of Object.entries(counts)) {
    const row = data.auditEventFacets.actors.find((a) => a.actorId === actorId);
    assert.ok(row, `a facet row for ${actorId}`);
    assert.equal(row.count, count, `${actorId}: ${count} events`);
    const names = inputs.filter((i) => i.actor.id === actorId).map((i) => i.actor.name);
    assert.equal(row.name, names.reduce((a, b) => (a > b ? a : b)), `${actorId}: the greatest name`);
  }
  const actions = Object.fromEntries(data.auditEventFacets.actions.map((a) => [a.value, a.count]));
  for (const verb of ['create', 'update', 'share']) {
    assert.equal(actions[`apollo.doc.${verb}`], 5, `apollo.doc.${verb}: 5 events`);
  }
});

/** Subscribes through `client`; returns `{ events, next(n) (resolves with the first n), stop }`. */
function subscribe(client, variables) {
  const inbox = eventInbox();
  const subscription = client.subscribe({ query: RECORDED, variables }).subscribe({
    next: (result) => (result.error ? inbox.fail(result.error) : inbox.push(result.data.auditEventRecorded)),
    error: inbox.fail,
  });
  return { events: inbox.events, next: inbox.next, stop: () => subscription.unsubscribe() };
}

test('GraphQLWsLink: a subscription with afterSequence receives replayed and live events in sequence order, as stored', async () => {
  const client = apolloClient();
  const [marker] = await record(liveEvents('apollo.live.', ['start']));
  const live = subscribe(client, { filter: { actionPrefix: 'apollo.live.' }, afterSequence: marker.sequence });
  // Recorded through the client's own HttpLink (the split's other side).
  const first = await client.mutate({ mutation: RECORD, variables: { events: liveEvents('apollo.live.', ['a', 'b']) } });
  await live.next(1);
  const second = await client.mutate({ mutation: RECORD, variables: { events: liveEvents('apollo.live.', ['c', 'd', 'e']) } });
  const received = await live.next(5);
  live.stop();
  const sent = [...first.data.recordAuditEvents.events, ...second.data.recordAuditEvents.events];
  assert.deepEqual(received.map((e) => e.sequence), sent.map((e) => e.sequence), 'in sequence order, each once');
  assert.deepEqual(received.map((e) => e.action), ['a', 'b', 'c', 'd', 'e'].map((n) => `apollo.live.${n}`));
  const rows = (await stored({ actionPrefix: 'apollo.live.' })).reverse().slice(1);
  assert.deepEqual(withoutTypename(received), rows, 'every field as stored');
  assert.deepEqual(withoutTypename(sent), rows, 'the mutation returned what was stored');
});

test('sequences past 2^32 are exact JS numbers through queries, mutations and the subscription', async () => {
  const key = env('AUDITLOG_HIGH_KEY');
  const counter = Number(env('AUDITLOG_HIGH_COUNTER'));
  assert.ok(counter > 2 ** 32 && Number.isSafeInteger(counter));
  const client = apolloClient({ key, relay: true });
  const { data } = await client.mutate({ mutation: RECORD, variables: { events: liveEvents('apollo.high.', ['a', 'b', 'c']) } });
  const sequences = data.recordAuditEvents.events.map((e) => e.sequence);
  assert.deepEqual(sequences, [counter + 1, counter + 2, counter + 3]);
  for (const s of sequences) assert.ok(Number.isSafeInteger(s) && s > 2 ** 32, `${s} is a safe integer past 2^32`);

  const page = await client.query({ query: EVENTS, variables: { filter: { actionPrefix: 'apollo.high.' }, first: 5 } });
  assert.deepEqual(page.data.auditEvents.edges.map((e) => e.node.sequence), [...sequences].reverse());

  const live = subscribe(client, { filter: { actionPrefix: 'apollo.high.' }, afterSequence: counter + 1 });
  const replayed = await live.next(2);
  assert.deepEqual(replayed.map((e) => e.sequence), [counter + 2, counter + 3]);
  const more = await record(liveEvents('apollo.high.', ['d']), key);
  const all = await live.next(3);
  live.stop();
  assert.equal(more[0].sequence, counter + 4);
  assert.equal(all[2].sequence, counter + 4);
  for (const e of all) assert.ok(Number.isSafeInteger(e.sequence) && e.sequence > 2 ** 32);
});

/** A query document new to the server (APQ hashes are per document). */
function freshQuery(label) {
  const name = `Apq${label}${Date.now()}${Math.floor(Math.random() * 1e6)}`;
  return gql`
    query ${name}($filter: AuditEventFilter) {
      auditEvents(filter: $filter, first: 3) { nodes { ${EVENT_FIELDS} } }
    }
  `;
}

async function persistedQueryRoundTrip(method) {
  const { filter, stored: rows } = await seed();
  const query = freshQuery(method);
  const wire = [];
  const first = apolloClient({ persisted: method, fetch: recordingFetch(wire) });
  const { data } = await first.query({ query, variables: { filter } });
  assert.deepEqual(withoutTypename(data.auditEvents.nodes), rows.slice(0, 3), 'correct data after the retry');

  assert.equal(wire.length, 2, `a hash-only request, then the full query: ${JSON.stringify(wire)}`);
  const [hashOnly, full] = wire;
  const extensionsOf = (entry) =>
    entry.method === 'GET' ? JSON.parse(entry.url.searchParams.get('extensions')) : entry.body.extensions;
  const queryOf = (entry) => (entry.method === 'GET' ? entry.url.searchParams.get('query') : entry.body.query);
  assert.equal(hashOnly.method, method);
  assert.equal(queryOf(hashOnly) ?? undefined, undefined, 'the first request carries no query text');
  assert.equal(full.method, 'POST', 'the retry with the query text is a POST');
  const text = full.body.query;
  assert.equal(typeof text, 'string');
  const hash = sha256(text);
  assert.deepEqual(extensionsOf(hashOnly).persistedQuery, { version: 1, sha256Hash: hash }, 'the real SHA-256 of the query');
  assert.deepEqual(full.body.extensions.persistedQuery, { version: 1, sha256Hash: hash });
  assert.equal(hashOnly.response.data, undefined, 'no data for an unknown hash');
  assert.equal(hashOnly.response.errors[0].extensions.code, 'PERSISTED_QUERY_NOT_FOUND', JSON.stringify(hashOnly.response));
  assert.equal(hashOnly.response.errors[0].message, 'PersistedQueryNotFound');
  // Apollo's HttpLink prefers application/graphql-response+json: a request
  // error without data is a 400 there (GraphQL over HTTP).
  assert.match(hashOnly.contentType, /application\/graphql-response\+json/);
  assert.equal(hashOnly.status, 400);
  assert.equal(full.status, 200);
  assert.equal(full.response.errors, undefined);

  // A fresh client (empty cache, same server): the hash alone is answered.
  const secondWire = [];
  const second = apolloClient({ persisted: method, fetch: recordingFetch(secondWire) });
  const again = await second.query({ query, variables: { filter } });
  assert.equal(secondWire.length, 1, `one request: ${JSON.stringify(secondWire)}`);
  assert.equal(secondWire[0].method, method);
  assert.equal(queryOf(secondWire[0]) ?? undefined, undefined, 'hash only');
  assert.deepEqual(extensionsOf(secondWire[0]).persistedQuery, { version: 1, sha256Hash: hash });
  assert.equal(secondWire[0].status, 200);
  assert.deepEqual(withoutTypename(again.data.auditEvents.nodes), rows.slice(0, 3), 'correct data from the hash alone');
}

test('PersistedQueryLink over POST: hash only, PERSISTED_QUERY_NOT_FOUND, retry with the query; then the hash alone', async () => {
  await persistedQueryRoundTrip('POST');
});

test('PersistedQueryLink with useGETForHashedQueries: the same over GET', async () => {
  await persistedQueryRoundTrip('GET');
});

test('a persisted-query hash that is not the SHA-256 of the query text is refused', async () => {
  const query = `query ApqMismatch${Date.now()} { auditEvents(first: 1) { nodes { id } } }`;
  const wrong = sha256(`${query} `);
  const { status, body } = await rawPost({
    query,
    extensions: { persistedQuery: { version: 1, sha256Hash: wrong } },
  });
  assert.equal(status, 200, 'a GraphQL error under application/json');
  assert.equal(body.data, undefined, JSON.stringify(body));
  assert.equal(body.errors[0].extensions.code, 'PERSISTED_QUERY_HASH_MISMATCH', JSON.stringify(body));
  // The mismatched hash was not registered: asking for it alone is still unknown.
  const hashOnly = await rawPost({ extensions: { persistedQuery: { version: 1, sha256Hash: wrong } } });
  assert.equal(hashOnly.body.errors[0].extensions.code, 'PERSISTED_QUERY_NOT_FOUND', JSON.stringify(hashOnly.body));
});
