// Apollo Client 4 (InMemoryCache with relayStylePagination, HttpLink split
// with GraphQLWsLink) authenticated only by a viewer token, as a SaaS frontend
// embedding auditlog uses it (docs/integration.md). Started by the Rust test
// `frontend_clients::viewer_token::apollo_client_with_a_viewer_token`, which
// passes AUDITLOG_HTTP_URL, AUDITLOG_WS_URL, AUDITLOG_VIEWER_TOKEN (AUDITOR,
// scope `{ targetType: AUDITLOG_VIEWER_SCOPE_TARGET_TYPE }`) and
// AUDITLOG_EXPECTED (what the scope must show, from what the driver recorded:
// `sequences` newest first, `actions` and `actors` counts, one `inScopeId`,
// `outOfScopeIds`, `otherTenantIds`). AUDITLOG_PUBLISHER_KEY (a platform
// PUBLISHER key) with AUDITLOG_TENANT / AUDITLOG_OTHER_TENANT is used only by
// `publish`, a raw fetch that records the live events: a viewer token may
// not record. The tests run in file order; only the last one records.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApolloClient, CombinedGraphQLErrors, HttpLink, InMemoryCache, gql, split } from '@apollo/client';
import { relayStylePagination, getMainDefinition } from '@apollo/client/utilities';
import { SetContextLink } from '@apollo/client/link/context';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import {
  EVENTS_QUERY,
  EVENT_FIELDS,
  RECORDED_SUBSCRIPTION,
  RECORD_MUTATION,
  env,
  eventInbox,
  httpUrl,
  withoutTypename,
  wsUrl,
} from './fixtures.mjs';

const token = () => env('AUDITLOG_VIEWER_TOKEN');
const scopeTargetType = () => env('AUDITLOG_VIEWER_SCOPE_TARGET_TYPE');
const expected = JSON.parse(env('AUDITLOG_EXPECTED'));

const open = [];
after(async () => {
  for (const dispose of open.reverse()) await dispose();
});

/**
 * An Apollo client whose only credential is the viewer token, on HTTP and
 * WebSocket, read at each request and connection as docs/integration.md
 * shows (so a page can swap in a renewed token).
 */
function viewerClient({ headers = {} } = {}) {
  const wsClient = createClient({
    url: wsUrl(),
    webSocketImpl: WebSocket,
    connectionParams: () => ({ Authorization: `Bearer ${token()}` }),
    lazy: true,
    retryAttempts: 0,
  });
  const auth = new SetContextLink(({ headers: previous }) => ({
    headers: { ...previous, authorization: `Bearer ${token()}`, ...headers },
  }));
  const httpLink = auth.concat(new HttpLink({ uri: httpUrl() }));
  const link = split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
    },
    new GraphQLWsLink(wsClient),
    httpLink,
  );
  const cache = new InMemoryCache({ typePolicies: { Query: { fields: { auditEvents: relayStylePagination(['filter']) } } } });
  const client = new ApolloClient({ link, cache });
  open.push(async () => {
    client.stop();
    await wsClient.dispose();
  });
  return client;
}

/** Records `events` into `tenant` with the platform PUBLISHER key (raw fetch); returns them as stored. */
async function publish(events, tenant = env('AUDITLOG_TENANT')) {
  const response = await fetch(httpUrl(), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${env('AUDITLOG_PUBLISHER_KEY')}`,
      'auditlog-tenant': tenant,
    },
    body: JSON.stringify({ query: RECORD_MUTATION, variables: { events } }),
  });
  const body = await response.json();
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data.recordAuditEvents.events;
}

/** The `extensions.code` of an Apollo error (a `CombinedGraphQLErrors`). */
function codeOf(error) {
  assert.ok(CombinedGraphQLErrors.is(error), `a GraphQL error, got ${error}`);
  return error.errors[0].extensions.code;
}

/** Every event `filter` selects through `client`, page by page (`first: 5`); returns `{ events, pages }`. */
async function pageThrough(client, filter) {
  const variables = { filter, first: 5 };
  const watched = client.watchQuery({ query: EVENTS, variables });
  const first = await client.query({ query: EVENTS, variables });
  let connection = first.data.auditEvents;
  let pages = 1;
  while (connection.pageInfo.hasNextPage) {
    await watched.fetchMore({ variables: { after: connection.pageInfo.endCursor } });
    connection = client.readQuery({ query: EVENTS, variables }).auditEvents;
    pages += 1;
    assert.ok(pages <= 20, 'the log ends');
  }
  return { events: connection.edges.map((edge) => edge.node), pages };
}

const EVENTS = gql(EVENTS_QUERY);
const RECORDED = gql(RECORDED_SUBSCRIPTION);
const FACETS = gql`
  query ScopedFacets($filter: AuditEventFilter) {
    auditEventFacets(filter: $filter) { actions { value count } actors { actorId count } exact countedEvents }
  }
`;
const EVENT = gql`query Permalink($id: ID!) { auditEvent(id: $id) { ${EVENT_FIELDS} } }`;

/** `[{ value, count }]` (or `actorId`) as `{ value: count }`. */
const asCounts = (rows, key) => Object.fromEntries(rows.map((row) => [row[key], row.count]));

test('relayStylePagination pages through the scoped log: every event in scope, as many as were recorded', async () => {
  const client = viewerClient();
  const { events, pages } = await pageThrough(client, null);
  assert.equal(pages, Math.ceil(expected.sequences.length / 5), 'pages of 5');
  assert.equal(events.length, expected.sequences.length, 'every in-scope event, once');
  for (const event of events) {
    assert.equal(event.target?.type, scopeTargetType(), `in scope: ${JSON.stringify(event)}`);
  }
  // The driver's sequences, newest first: no self-audit event (`tenant.create`,
  // `viewer_token.create`), no folder or login, nothing of the other tenant.
  assert.deepEqual(events.map((event) => event.sequence), expected.sequences);
});

test('a client filter narrows within the scope and never widens it', async () => {
  const client = viewerClient();
  const shares = await pageThrough(client, { actions: ['document.share'] });
  assert.equal(shares.events.length, expected.actions['document.share']);
  assert.ok(shares.events.every((event) => event.action === 'document.share'));
  for (const filter of [
    { actions: ['user.login'] },
    { targetType: 'folder' },
    { actionPrefix: 'viewer_token.' },
    { actionPrefix: 'tenant.' },
  ]) {
    const { events } = await pageThrough(client, filter);
    assert.deepEqual(events, [], `nothing outside the scope through ${JSON.stringify(filter)}`);
  }
});

test('auditEventFacets counts only the events in scope', async () => {
  const client = viewerClient();
  const { data } = await client.query({ query: FACETS, variables: { filter: null } });
  const facets = data.auditEventFacets;
  assert.deepEqual(asCounts(facets.actions, 'value'), expected.actions, 'in-scope actions only, with their counts');
  // user-1 also logged in (out of scope): only its document events count.
  assert.deepEqual(asCounts(facets.actors, 'actorId'), expected.actors, 'in-scope actors only');
  assert.equal(facets.exact, true);
  assert.equal(facets.countedEvents, expected.sequences.length);
});

test('a permalink outside the scope, or of another tenant, is null', async () => {
  const client = viewerClient();
  const inside = await client.query({ query: EVENT, variables: { id: expected.inScopeId } });
  assert.equal(inside.data.auditEvent.id, expected.inScopeId);
  assert.equal(inside.data.auditEvent.target.type, scopeTargetType());
  assert.ok(expected.outOfScopeIds.length > 0 && expected.otherTenantIds.length > 0);
  for (const id of [...expected.outOfScopeIds, ...expected.otherTenantIds]) {
    const { data } = await client.query({ query: EVENT, variables: { id } });
    assert.equal(data.auditEvent, null, `event ${id} is not visible`);
  }
});

test('the viewer token may not record events nor name another tenant', async () => {
  const client = viewerClient();
  const event = { action: 'document.update', actor: { type: 'USER', id: 'user-1' }, target: { type: 'document', id: 'd-1' } };
  await assert.rejects(
    client.mutate({ mutation: gql(RECORD_MUTATION), variables: { events: [event] } }),
    (error) => codeOf(error) === 'FORBIDDEN',
  );
  const foreign = viewerClient({ headers: { 'auditlog-tenant': env('AUDITLOG_OTHER_TENANT') } });
  await assert.rejects(
    foreign.query({ query: EVENTS, variables: { filter: null, first: 1 } }),
    (error) => codeOf(error) === 'FORBIDDEN',
  );
  const own = viewerClient({ headers: { 'auditlog-tenant': env('AUDITLOG_TENANT') } });
  const { data } = await own.query({ query: EVENTS, variables: { filter: null, first: 1 } });
  assert.equal(data.auditEvents.edges[0].node.sequence, expected.sequences[0], 'its own tenant may be named');
});

test('GraphQLWsLink: replay and live events are those in scope only, in sequence order', async () => {
  const client = viewerClient();
  const inbox = eventInbox();
  const subscription = client.subscribe({ query: RECORDED, variables: { afterSequence: 0 } }).subscribe({
    next: (result) => (result.error ? inbox.fail(result.error) : inbox.push(withoutTypename(result.data.auditEventRecorded))),
    error: inbox.fail,
  });
  const replayed = await inbox.next(expected.sequences.length);
  assert.deepEqual(replayed.map((event) => event.sequence), [...expected.sequences].reverse(), 'the replay: the scope, oldest first');

  const doc = (action, id) => ({ action, actor: { type: 'USER', id: 'user-2' }, target: { type: 'document', id } });
  const folder = (action, id) => ({ action, actor: { type: 'USER', id: 'user-9' }, target: { type: 'folder', id } });
  const batch = await publish([
    folder('folder.share', 'f-live'),
    doc('document.update', 'd-live'),
    { action: 'user.login', actor: { type: 'USER', id: 'user-1' } },
    doc('document.share', 'd-live'),
  ]);
  const afterBatch = await inbox.next(replayed.length + 2);
  assert.deepEqual(
    afterBatch.slice(replayed.length).map((event) => event.sequence),
    [batch[1].sequence, batch[3].sequence],
    'the two in-scope events of the batch',
  );
  // Out of scope, then another tenant's document, then one in scope: delivery
  // is in sequence order, so once the last one is here the others would have
  // been too.
  const [outside] = await publish([folder('folder.create', 'f-late')]);
  await publish([doc('document.update', 'globex-live')], env('AUDITLOG_OTHER_TENANT'));
  const [last] = await publish([doc('document.create', 'd-late')]);
  const all = await inbox.next(replayed.length + 3);
  assert.equal(all.at(-1).sequence, last.sequence);
  assert.ok(outside.sequence < last.sequence);
  subscription.unsubscribe();
  assert.equal(inbox.events.length, replayed.length + 3, 'nothing else was delivered');
  for (const event of inbox.events) {
    assert.equal(event.target?.type, scopeTargetType(), `in scope: ${JSON.stringify(event)}`);
    assert.notEqual(event.target.targetId, 'globex-live', 'nothing of the other tenant');
  }
});
