// graphql-request 7 against a running auditlog server: what a client sees for
// bad input — the thrown ClientError's HTTP status and `extensions.code`.
// graphql-request sends `Accept: application/graphql-response+json,
// application/json`, so the server answers under
// application/graphql-response+json: a request that cannot execute (parse,
// validation, variables that do not coerce) is a 400 without `data`; a
// resolver's error (credential, role, page size) is a 200 with `data: null`
// (docs/security.md, "GraphQL over HTTP conformance"). Started by the Rust
// test `frontend_clients::graphql_request_client` (AUDITLOG_HTTP_URL,
// AUDITLOG_KEY: an ADMIN key).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { ClientError, GraphQLClient, gql } from 'graphql-request';
import { adminKey, httpUrl } from './fixtures.mjs';

const client = (key) => new GraphQLClient(httpUrl(), key ? { headers: { authorization: `Bearer ${key}` } } : {});

const EVENTS = gql`
  query Events($filter: AuditEventFilter, $first: Int) {
    auditEvents(filter: $filter, first: $first) { nodes { id sequence actor { type actorId } } }
  }
`;
const RECORD = gql`
  mutation Record($events: [AuditEventInput!]!) { recordAuditEvents(events: $events) { events { id sequence } } }
`;
const oneEvent = [{ action: 'gqlrequest.check', actor: { type: 'USER', id: 'user-1', name: 'Ada' } }];

let auditorKey;
before(async () => {
  const { createApiKey } = await client(adminKey()).request(
    gql`mutation Auditor { createApiKey(name: "graphql-request auditor", role: AUDITOR) { secret apiKey { role } } }`,
  );
  assert.equal(createApiKey.apiKey.role, 'AUDITOR');
  auditorKey = createApiKey.secret;
});

/** Runs `request` and returns the ClientError it must throw. */
async function refused(request) {
  try {
    const data = await request();
    assert.fail(`expected a ClientError, got data ${JSON.stringify(data)}`);
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    assert.match(error.response.headers.get('content-type'), /^application\/graphql-response\+json/);
    return error;
  }
}

/** Asserts a request error: `status` (400), no `data`, the first error's code. */
function assertRequestError(error, code) {
  assert.equal(error.response.status, 400, JSON.stringify(error.response));
  assert.equal('data' in JSON.parse(error.response.body), false, 'a request error has no data entry');
  assert.equal(error.response.errors[0].extensions.code, code, JSON.stringify(error.response.errors));
}

/** Asserts a field error: 200, `data: null`, the first error's code at `path`. */
function assertFieldError(error, code, path) {
  assert.equal(error.response.status, 200, JSON.stringify(error.response));
  assert.equal(JSON.parse(error.response.body).data, null);
  assert.equal(error.response.errors[0].extensions.code, code, JSON.stringify(error.response.errors));
  assert.deepEqual(error.response.errors[0].path, path);
}

test('valid requests succeed (the control): ADMIN records, AUDITOR reads', async () => {
  const { recordAuditEvents } = await client(adminKey()).request(RECORD, { events: oneEvent });
  assert.equal(recordAuditEvents.events.length, 1);
  assert.ok(Number.isSafeInteger(recordAuditEvents.events[0].sequence));
  const { auditEvents } = await client(auditorKey).request(EVENTS, { filter: { actions: ['gqlrequest.check'] }, first: 500 });
  assert.deepEqual(auditEvents.nodes.map((n) => n.id), [recordAuditEvents.events[0].id]);
  assert.deepEqual(auditEvents.nodes[0].actor, { type: 'USER', actorId: 'user-1' });
});

test('missing credential: 200, UNAUTHENTICATED', async () => {
  const error = await refused(() => client(null).request(EVENTS, { first: 1 }));
  assertFieldError(error, 'UNAUTHENTICATED', ['auditEvents']);
});

test('unknown credential: 200, UNAUTHENTICATED', async () => {
  const error = await refused(() => client('alk_acme_nope0000_notasecret').request(EVENTS, { first: 1 }));
  assertFieldError(error, 'UNAUTHENTICATED', ['auditEvents']);
});

test('an AUDITOR key recording events: 200, FORBIDDEN', async () => {
  const error = await refused(() => client(auditorKey).request(RECORD, { events: oneEvent }));
  assertFieldError(error, 'FORBIDDEN', ['recordAuditEvents']);
});

test('an unknown enum value in a variable: 400, BAD_USER_INPUT', async () => {
  const error = await refused(() => client(adminKey()).request(EVENTS, { filter: { actorType: 'ROBOT' }, first: 1 }));
  assertRequestError(error, 'BAD_USER_INPUT');
  assert.match(error.response.errors[0].message, /ROBOT/);
});

test('a bad DateTime in a variable is a request error: 400 without data, BAD_USER_INPUT', async () => {
  const error = await refused(() => client(adminKey()).request(EVENTS, { filter: { occurredAfter: 'yesterday' }, first: 1 }));
  assertRequestError(error, 'BAD_USER_INPUT');
  assert.match(error.response.errors[0].message, /DateTime/);
});

test('an unknown field: 400, GRAPHQL_VALIDATION_FAILED', async () => {
  const error = await refused(() => client(adminKey()).request(gql`query Colour { auditEvents(first: 1) { nodes { id colour } } }`));
  assertRequestError(error, 'GRAPHQL_VALIDATION_FAILED');
  assert.match(error.response.errors[0].message, /colour/);
});

test('a syntax error: 400, GRAPHQL_PARSE_FAILED', async () => {
  // A string, not gql``: graphql-request sends it as written (graphql-js would refuse to parse it).
  const error = await refused(() => client(adminKey()).request('query Broken { auditEvents(first: 1) { nodes { id } }'));
  assertRequestError(error, 'GRAPHQL_PARSE_FAILED');
});

test('a page size over the limit (501): 200, BAD_USER_INPUT; 500 is accepted', async () => {
  const error = await refused(() => client(adminKey()).request(EVENTS, { first: 501 }));
  assertFieldError(error, 'BAD_USER_INPUT', ['auditEvents']);
  assert.match(error.response.errors[0].message, /500/);
  const { auditEvents } = await client(adminKey()).request(EVENTS, { first: 500 });
  assert.ok(auditEvents.nodes.length >= 1);
});
