//! The GraphQL documents the harness sends. Names and shapes follow the contract in
//! issue 2; every document selects every field, so tests can assert any of them
//! (the deprecated snapshot `id`s too, beside `actorId`/`targetId`: they keep working).

/// Every field of `AuditEvent`, as a literal so documents can be built with `concat!`.
macro_rules! event_fields {
    () => {
        "id sequence action actor { type actorId id name email } target { type targetId id name } outcome \
         context { ipAddress userAgent requestId } payload occurredAt receivedAt"
    };
}

/// Every field of `AuditEvent`.
pub const EVENT_FIELDS: &str = event_fields!();

/// Every field of `RetentionPolicy`, as a literal for `concat!`.
macro_rules! policy_fields {
    () => {
        "days planDefault minDays maxDays legalHold legalHoldReason updatedAt retainedSince"
    };
}

/// Every field of `RetentionPolicy`.
pub const POLICY_FIELDS: &str = policy_fields!();

/// Every field of `ApiKey`.
pub const API_KEY_FIELDS: &str = "id name role prefix createdAt lastUsedAt revokedAt";

pub const RECORD_EVENTS: &str = concat!(
    "mutation Record($events: [AuditEventInput!]!) { recordAuditEvents(events: $events) { events { ",
    event_fields!(),
    " } } }"
);

pub const LIST_EVENTS: &str = concat!(
    "query List($first: Int, $after: String, $last: Int, $before: String, $filter: AuditEventFilter) { ",
    "auditEvents(first: $first, after: $after, last: $last, before: $before, filter: $filter) { ",
    "edges { cursor node { ",
    event_fields!(),
    " } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"
);

/// The live subscription every live test uses, with every field selected.
pub const SUBSCRIPTION: &str = concat!(
    "subscription($filter: AuditEventFilter, $after: Sequence) { ",
    "auditEventRecorded(filter: $filter, afterSequence: $after) { ",
    event_fields!(),
    " } }"
);

pub const EVENT_BY_ID: &str = concat!(
    "query Event($id: ID!) { auditEvent(id: $id) { ",
    event_fields!(),
    " } }"
);

pub const FACETS: &str =
    "query { auditEventFacets { actions { value count } actors { actorId id name count } } }";

pub const TENANT: &str = "query { tenant { id slug name plan createdAt } }";

pub const API_KEYS: &str =
    "query { apiKeys { id name role prefix createdAt lastUsedAt revokedAt } }";

pub const CREATE_API_KEY: &str = "mutation CreateKey($name: String!, $role: Role!) { createApiKey(name: $name, role: $role) { \
     secret apiKey { id name role prefix createdAt lastUsedAt revokedAt } } }";

pub const REVOKE_API_KEY: &str = "mutation Revoke($id: ID!) { revokeApiKey(id: $id) { id name role prefix createdAt lastUsedAt revokedAt } }";

pub const CREATE_TENANT: &str = "mutation CreateTenant($slug: String!, $name: String!, $plan: Plan!) { \
     createTenant(slug: $slug, name: $name, plan: $plan) { tenant { id slug name plan createdAt } \
     adminKey { secret apiKey { id name role prefix createdAt lastUsedAt revokedAt } } } }";

/// The tenant's plan and retention policy.
pub const TENANT_POLICY: &str = concat!(
    "query { tenant { plan createdAt retention { ",
    policy_fields!(),
    " } } }"
);

pub const SET_RETENTION_POLICY: &str = concat!(
    "mutation($days: Int!) { setRetentionPolicy(days: $days) { ",
    policy_fields!(),
    " } }"
);

/// `setLegalHold` on the caller's own tenant.
pub const SET_LEGAL_HOLD: &str = concat!(
    "mutation($enabled: Boolean!, $reason: String) { ",
    "setLegalHold(enabled: $enabled, reason: $reason) { ",
    policy_fields!(),
    " } }"
);

/// `setLegalHold` by the operator, on tenant `$id`.
pub const SET_LEGAL_HOLD_FOR: &str = concat!(
    "mutation($id: ID!, $enabled: Boolean!, $reason: String) { ",
    "setLegalHold(tenantId: $id, enabled: $enabled, reason: $reason) { ",
    policy_fields!(),
    " } }"
);

pub const CHANGE_TENANT_PLAN: &str = concat!(
    "mutation($id: ID!, $plan: Plan!) { changeTenantPlan(tenantId: $id, plan: $plan) { ",
    "id plan retention { ",
    policy_fields!(),
    " } } }"
);
