// Shared by the frontend-client tests (apollo.test.mjs, urql.test.mjs,
// graphql-request.test.mjs): the environment the Rust test
// `frontend_clients` passes, raw `fetch` helpers (no client, no cache) to seed
// a tenant and to read back what the server stored, and the data set.
import assert from 'node:assert/strict';

/** `AUDITLOG_HTTP_URL` etc., as passed by tests/tests/api/frontend_clients.rs. */
export function env(name) {
  const value = process.env[name];
  assert.ok(value, `${name} is not set (run through cargo test … frontend_clients)`);
  return value;
}

export const httpUrl = () => env('AUDITLOG_HTTP_URL');
export const wsUrl = () => env('AUDITLOG_WS_URL');
export const adminKey = () => env('AUDITLOG_KEY');

/** A raw GraphQL POST; returns `{ status, headers, body }`. */
export async function rawPost(body, { key = adminKey(), accept = 'application/json' } = {}) {
  const headers = { 'content-type': 'application/json', accept };
  if (key) headers.authorization = `Bearer ${key}`;
  const response = await fetch(httpUrl(), { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/** A raw GraphQL request that must succeed without errors; returns `data`. */
export async function gql(query, variables = {}, key = adminKey()) {
  const { status, body } = await rawPost({ query, variables }, { key });
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data;
}

/** The fields every test selects of an event (never the deprecated snapshot `id`s). */
export const EVENT_FIELDS = `
  id
  sequence
  action
  occurredAt
  actor { type actorId name email }
  target { type targetId name }
`;

/** The documents both normalized-cache clients run (each wraps them in its own `gql`). */
export const EVENTS_QUERY = `
  query Events($filter: AuditEventFilter, $first: Int, $after: String) {
    auditEvents(filter: $filter, first: $first, after: $after) {
      edges { cursor node { ${EVENT_FIELDS} } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

export const RECORD_MUTATION = `
  mutation Record($events: [AuditEventInput!]!) {
    recordAuditEvents(events: $events) { events { ${EVENT_FIELDS} } }
  }
`;

export const RECORDED_SUBSCRIPTION = `
  subscription Recorded($filter: AuditEventFilter, $afterSequence: Sequence) {
    auditEventRecorded(filter: $filter, afterSequence: $afterSequence) { ${EVENT_FIELDS} }
  }
`;

/** Records `events` with a raw request; returns the stored events in input order. */
export async function record(events, key = adminKey()) {
  const data = await gql(
    `mutation Record($events: [AuditEventInput!]!) { recordAuditEvents(events: $events) { events { ${EVENT_FIELDS} } } }`,
    { events },
    key,
  );
  return data.recordAuditEvents.events;
}

/** Every stored event matching `filter`, newest first, read with a raw request (at most 500). */
export async function stored(filter, key = adminKey()) {
  const data = await gql(
    `query Stored($filter: AuditEventFilter) { auditEvents(filter: $filter, first: 500) { nodes { ${EVENT_FIELDS} } pageInfo { hasNextPage } } }`,
    { filter },
    key,
  );
  assert.equal(data.auditEvents.pageInfo.hasNextPage, false);
  return data.auditEvents.nodes;
}

/** The facets, read with a raw request. */
export async function storedFacets(key = adminKey()) {
  const data = await gql(FACETS_QUERY, {}, key);
  return data.auditEventFacets;
}

export const FACETS_QUERY = `query Facets { auditEventFacets { actions { value count } actors { actorId name count } } }`;

/**
 * The data set: 15 events whose actors and targets share ids across types and
 * change names, one minute apart (oldest first), so pages of 5 are
 * deterministic. `user-42` is a USER named "Ada" and later "Ada Lovelace"
 * (with a new email), an API_KEY named "billing-bot" and a SYSTEM actor
 * named "nightly-export"; `doc-1` is a `document` renamed from "Q1 report" to
 * "Q1 report (final)" and a `folder` named "Reports"; some events have no
 * target. A normalized cache keying snapshots on their id would show one of
 * these names for all of them.
 */
export function snapshotEvents(prefix, { count = 15, startMinutesAgo = 120 } = {}) {
  const start = Date.now() - startMinutesAgo * 60_000;
  return Array.from({ length: count }, (_, i) => {
    const renamed = i >= 7;
    const actor = [
      { type: 'USER', id: 'user-42', name: renamed ? 'Ada Lovelace' : 'Ada', email: renamed ? 'ada@lovelace.example' : 'ada@example.com' },
      { type: 'API_KEY', id: 'user-42', name: 'billing-bot' },
      { type: 'USER', id: 'user-7', name: renamed ? 'Grace Hopper' : 'Grace' },
      { type: 'SYSTEM', id: 'user-42', name: 'nightly-export' },
      { type: 'USER', id: 'user-42', name: renamed ? 'Ada Lovelace' : 'Ada', email: renamed ? 'ada@lovelace.example' : 'ada@example.com' },
    ][i % 5];
    const target = [
      { type: 'document', id: 'doc-1', name: renamed ? 'Q1 report (final)' : 'Q1 report' },
      { type: 'folder', id: 'doc-1', name: 'Reports' },
      null,
      { type: 'document', id: 'doc-2', name: `Draft ${i}` },
    ][i % 4];
    const event = {
      action: `${prefix}${['create', 'update', 'share'][i % 3]}`,
      actor,
      occurredAt: new Date(start + i * 60_000).toISOString(),
      payload: { i },
    };
    if (target) event.target = target;
    return event;
  });
}

/** What the server should store for an input's actor and target, as selected by EVENT_FIELDS. */
export function expectedSnapshot(input) {
  return {
    actor: { type: input.actor.type, actorId: input.actor.id, name: input.actor.name ?? null, email: input.actor.email ?? null },
    target: input.target ? { type: input.target.type, targetId: input.target.id ?? null, name: input.target.name ?? null } : null,
  };
}

/** `value` with every `__typename` removed (the clients add it to each selection). */
export function withoutTypename(value) {
  if (Array.isArray(value)) return value.map(withoutTypename);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => key !== '__typename')
        .map(([key, inner]) => [key, withoutTypename(inner)]),
    );
  }
  return value;
}

/**
 * Asserts that `rows` (events read through a client) equal `storedRows` (the
 * same events read raw) field by field, and that each actor/target is
 * exactly the input it was recorded from (`inputsBySequence`).
 */
export function assertRowsMatch(rows, storedRows, inputsBySequence) {
  assert.equal(rows.length, storedRows.length, 'row count');
  rows.forEach((row, i) => {
    const plain = withoutTypename(row);
    assert.deepEqual(plain, storedRows[i], `row ${i} equals the stored event`);
    const input = inputsBySequence.get(plain.sequence);
    assert.ok(input, `row ${i}: sequence ${plain.sequence} is one of the seeded events`);
    const expected = expectedSnapshot(input);
    assert.deepEqual(plain.actor, expected.actor, `row ${i}: actor as recorded`);
    assert.deepEqual(plain.target, expected.target, `row ${i}: target as recorded`);
    assert.equal(plain.action, input.action, `row ${i}: action`);
  });
}

/**
 * Seeds the snapshot data set under `prefix` once; returns `{ filter, inputs,
 * recorded, stored, inputsBySequence }` (`stored`: newest first, raw).
 */
export async function seedSnapshots(prefix) {
  const inputs = snapshotEvents(prefix);
  const recorded = await record(inputs);
  assert.equal(recorded.length, 15);
  const inputsBySequence = new Map(recorded.map((event, i) => [event.sequence, inputs[i]]));
  const filter = { actionPrefix: prefix };
  const rows = await stored(filter);
  assert.equal(rows.length, 15, 'the 15 seeded events are stored');
  // Newest first: the reverse of the recording order (occurredAt increases).
  assert.deepEqual(rows.map((r) => r.sequence), recorded.map((r) => r.sequence).reverse());
  // The raw read itself shows every snapshot as recorded (no cache involved).
  assertRowsMatch(rows, rows, inputsBySequence);
  return { filter, inputs, recorded, stored: rows, inputsBySequence };
}

/** Expected facet rows for the seeded actor ids: `{ actorId: count }`, from the inputs. */
export function actorCounts(inputs) {
  const counts = {};
  for (const input of inputs) counts[input.actor.id] = (counts[input.actor.id] ?? 0) + 1;
  return counts;
}

/** Resolves after `ms`, or rejects with `message` (a guard against hangs, never a timing assertion). */
export function withTimeout(promise, message, ms = 30_000) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out: ${message}`)), ms);
    }),
  ]);
}

/**
 * A `fetch` that records every request and its response on `wire`:
 * `{ method, url, body (parsed JSON or null), status, response (parsed JSON) }`.
 */
export function recordingFetch(wire) {
  return async (input, init = {}) => {
    const url = typeof input === 'string' ? input : input.url;
    const method = (init.method ?? 'GET').toUpperCase();
    const entry = { method, url: new URL(url), body: init.body ? JSON.parse(init.body) : null };
    const response = await fetch(input, init);
    entry.status = response.status;
    entry.contentType = response.headers.get('content-type');
    entry.response = await response.clone().json();
    wire.push(entry);
    return response;
  };
}

/**
 * Collects the events of a subscription as they arrive: feed it with
 * `push(event)` and `fail(error)`; `next(n)` resolves with the first n events
 * (or rejects with the subscription's error).
 */
export function eventInbox() {
  const events = [];
  const waiters = [];
  let failure;
  const wake = () => {
    for (const waiter of [...waiters]) waiter();
  };
  const next = (n) =>
    withTimeout(
      new Promise((resolve, reject) => {
        const check = () => {
          if (failure) reject(failure);
          else if (events.length >= n) resolve(events.slice(0, n));
          else return;
          waiters.splice(waiters.indexOf(check), 1);
        };
        waiters.push(check);
        check();
      }),
      `${n} subscription events`,
    );
  return {
    events,
    next,
    push: (event) => {
      events.push(event);
      wake();
    },
    fail: (error) => {
      failure = error;
      wake();
    },
  };
}

/** Events by one actor id that alternates types and changes names, `prefix` + each name. */
export function liveEvents(prefix, names) {
  return names.map((name, i) => ({
    action: `${prefix}${name}`,
    actor: { type: i % 2 ? 'API_KEY' : 'USER', id: 'live-1', name: `live ${name}` },
    target: { type: 'document', id: 'live-doc', name: `doc ${name}` },
  }));
}
