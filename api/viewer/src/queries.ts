// The GraphQL documents of the viewer, and the shapes they return.

export interface Actor { type: string; actorId: string; name: string | null; email: string | null }
export interface Target { type: string; targetId: string | null; name: string | null }
export interface EventRow {
  id: string;
  sequence: number;
  action: string;
  actor: Actor;
  target: Target | null;
  outcome: 'SUCCESS' | 'FAILURE';
  occurredAt: string;
}
export interface EventDetails extends EventRow {
  receivedAt: string;
  context: { ipAddress: string | null; userAgent: string | null; requestId: string | null };
  payload: unknown;
}
export interface Caller { role: 'ADMIN' | 'AUDITOR' | 'PUBLISHER'; actor: Actor; expiresAt: string | null }
export interface Retention {
  days: number; planDefault: number; minDays: number; maxDays: number;
  legalHold: boolean; legalHoldReason: string | null; updatedAt: string; retainedSince: string | null;
}
export interface Tenant { id: string; slug: string; name: string; plan: 'TEAM' | 'ENTERPRISE'; retention: Retention }
export interface ApiKey { id: string; name: string; role: string; prefix: string; createdAt: string; lastUsedAt: string | null; revokedAt: string | null }

const ROW = `id sequence action outcome occurredAt
  actor { type actorId name email }
  target { type targetId name }`;

export const CALLER = `query Caller { caller { role expiresAt actor { type actorId name email } } tenant { slug name } }`;

export const EVENTS = `query Events($first: Int!, $after: String, $filter: AuditEventFilter) {
  auditEvents(first: $first, after: $after, filter: $filter) {
    pageInfo { hasNextPage endCursor }
    nodes { ${ROW} }
  }
}`;

export const EVENT = `query Event($id: ID!) {
  auditEvent(id: $id) {
    ${ROW} receivedAt payload
    context { ipAddress userAgent requestId }
  }
}`;

export const FACETS = `query Facets {
  auditEventFacets { actions { value count } actors { actorId name count } }
}`;

export const LIVE = `subscription Live($filter: AuditEventFilter, $afterSequence: Sequence) {
  auditEventRecorded(filter: $filter, afterSequence: $afterSequence) { ${ROW} }
}`;

const RETENTION = `days planDefault minDays maxDays legalHold legalHoldReason updatedAt retainedSince`;

export const SETTINGS = `query Settings {
  tenant { id slug name plan retention { ${RETENTION} } }
  apiKeys { id name role prefix createdAt lastUsedAt revokedAt }
}`;

export const SET_RETENTION = `mutation SetRetention($days: Int!) { setRetentionPolicy(days: $days) { ${RETENTION} } }`;
export const SET_LEGAL_HOLD = `mutation SetLegalHold($enabled: Boolean!, $reason: String) {
  setLegalHold(enabled: $enabled, reason: $reason) { ${RETENTION} }
}`;
export const CREATE_KEY = `mutation CreateKey($name: String!, $role: Role!) {
  createApiKey(name: $name, role: $role) { secret apiKey { id name role prefix createdAt lastUsedAt revokedAt } }
}`;
export const REVOKE_KEY = `mutation RevokeKey($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }`;

export type StreamKind = 'WEBHOOK' | 'SPLUNK_HEC';
export type StreamState = 'ACTIVE' | 'PAUSED' | 'FAILING' | 'DISABLED';
/** A stream's filter as it was given: the fields of AuditEventFilter, null when unset. */
export type StreamFilter = Record<string, string | string[] | null>;
export interface LogStream {
  id: string; name: string; kind: StreamKind; url: string; filter: StreamFilter | null; batchSize: number;
  splunkIndex: string | null; splunkSourcetype: string | null;
  state: StreamState; deliveredThroughSequence: number; lagEvents: number; lastDeliveryAt: string | null;
  lastError: string | null; attempt: number; nextAttemptAt: string | null;
  lastGap: { fromSequence: number; toSequence: number; at: string } | null;
  previousSecretValidUntil: string | null; createdAt: string; updatedAt: string;
}
export interface CreatedLogStream { logStream: LogStream; signingSecret: string | null }
export interface StreamDelivery {
  id: string; status: 'DELIVERED' | 'FAILED'; test: boolean; firstSequence: number; lastSequence: number;
  eventCount: number; attempt: number; responseStatus: number | null; latencyMs: number; error: string | null; createdAt: string;
}
export interface StreamDeliveryPage { pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: StreamDelivery[] }

const STREAM = `id name kind url batchSize splunkIndex splunkSourcetype state deliveredThroughSequence lagEvents
  lastDeliveryAt lastError attempt nextAttemptAt previousSecretValidUntil createdAt updatedAt
  filter { actions actionPrefix actorIds actorType targetType targetId outcome occurredAfter occurredBefore ipAddress search }
  lastGap { fromSequence toSequence at }`;

export const LOG_STREAMS = `query LogStreams { logStreams { ${STREAM} } }`;
export const CREATE_STREAM = `mutation CreateStream($input: LogStreamInput!, $startAfterSequence: Int) {
  createLogStream(input: $input, startAfterSequence: $startAfterSequence) { signingSecret logStream { ${STREAM} } }
}`;
export const PAUSE_STREAM = `mutation PauseStream($id: ID!) { pauseLogStream(id: $id) { ${STREAM} } }`;
export const RESUME_STREAM = `mutation ResumeStream($id: ID!) { resumeLogStream(id: $id) { ${STREAM} } }`;
export const REPLAY_STREAM = `mutation ReplayStream($id: ID!, $afterSequence: Int!) {
  replayLogStream(id: $id, afterSequence: $afterSequence) { ${STREAM} }
}`;
export const ROTATE_STREAM_SECRET = `mutation RotateStreamSecret($id: ID!) {
  rotateLogStreamSecret(id: $id) { signingSecret logStream { ${STREAM} } }
}`;
export const DELETE_STREAM = `mutation DeleteStream($id: ID!) { deleteLogStream(id: $id) }`;

const DELIVERY = `id status test firstSequence lastSequence eventCount attempt responseStatus latencyMs error createdAt`;

export const TEST_STREAM = `mutation TestStream($id: ID!) { testLogStream(id: $id) { ${DELIVERY} } }`;
export const STREAM_DELIVERIES = `query StreamDeliveries($id: ID!, $first: Int, $after: String) {
  logStreamDeliveries(id: $id, first: $first, after: $after) { pageInfo { hasNextPage endCursor } nodes { ${DELIVERY} } }
}`;

export interface SignedTreeHead { treeSize: number; treeOrigin: number; rootHash: string; timestamp: string; keyId: string; signature: string }
export interface InclusionProof { leafIndex: number; treeSize: number; leafHash: string; auditPath: string[] }

export const TREE_HEAD = `query TreeHead { auditLogTreeHead { treeSize treeOrigin rootHash timestamp keyId signature } tenant { id } }`;
export const INCLUSION_PROOF = `query InclusionProof($id: ID!, $treeSize: Int!) {
  auditEvent(id: $id) { inclusionProof(treeSize: $treeSize) { leafIndex treeSize leafHash auditPath } }
}`;
