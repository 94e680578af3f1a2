//! One helper per GraphQL operation. `*_as`/raw helpers return the [`GqlResponse`]
//! for tests about errors; the others assert success and return typed values.

use serde_json::{Value, json};

use super::Client;
use crate::queries;
use crate::response::GqlResponse;

/// A tenant created through `createTenant`, with its first ADMIN key.
#[derive(Debug, Clone)]
pub struct TenantHandle {
    pub id: String,
    pub slug: String,
    /// Secret of the first ADMIN key.
    pub admin_key: String,
    /// Id of the first ADMIN key.
    pub admin_key_id: String,
}

/// An API key returned by `createApiKey`.
#[derive(Debug, Clone)]
pub struct CreatedKey {
    pub id: String,
    pub secret: String,
    pub prefix: String,
    /// The `apiKey` object as returned.
    pub api_key: Value,
}

/// One page of `auditEvents`.
#[derive(Debug, Clone)]
pub struct Page {
    pub nodes: Vec<Value>,
    pub cursors: Vec<String>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

impl Page {
    pub fn ids(&self) -> Vec<String> {
        self.nodes.iter().map(|n| str_field(n, "id")).collect()
    }
}

/// `value[name]` as an owned string, panicking with the value when it is not one.
#[track_caller]
pub fn str_field(value: &Value, name: &str) -> String {
    value[name]
        .as_str()
        .unwrap_or_else(|| panic!("expected string field {name} in {value}"))
        .to_owned()
}

impl Client {
    /// `createTenant` with an arbitrary bearer.
    pub async fn create_tenant_as(
        &self,
        bearer: Option<&str>,
        slug: &str,
        name: &str,
        plan: &str,
    ) -> GqlResponse {
        let variables = json!({ "slug": slug, "name": name, "plan": plan });
        self.graphql(queries::CREATE_TENANT, variables, bearer)
            .await
    }

    /// Creates a tenant as the operator.
    pub async fn create_tenant(&self, slug: &str, plan: &str) -> TenantHandle {
        let response = self
            .create_tenant_as(
                Some(&self.operator_token),
                slug,
                &format!("Tenant {slug}"),
                plan,
            )
            .await;
        let created = response.field("createTenant");
        TenantHandle {
            id: str_field(&created["tenant"], "id"),
            slug: str_field(&created["tenant"], "slug"),
            admin_key: str_field(&created["adminKey"], "secret"),
            admin_key_id: str_field(&created["adminKey"]["apiKey"], "id"),
        }
    }

    pub async fn create_api_key_as(
        &self,
        bearer: Option<&str>,
        name: &str,
        role: &str,
    ) -> GqlResponse {
        self.graphql(
            queries::CREATE_API_KEY,
            json!({ "name": name, "role": role }),
            bearer,
        )
        .await
    }

    /// Creates an API key with an ADMIN secret.
    pub async fn create_api_key(&self, admin_key: &str, name: &str, role: &str) -> CreatedKey {
        let response = self.create_api_key_as(Some(admin_key), name, role).await;
        let created = response.field("createApiKey");
        CreatedKey {
            id: str_field(&created["apiKey"], "id"),
            secret: str_field(created, "secret"),
            prefix: str_field(&created["apiKey"], "prefix"),
            api_key: created["apiKey"].clone(),
        }
    }

    pub async fn revoke_api_key(&self, bearer: Option<&str>, id: &str) -> GqlResponse {
        self.graphql(queries::REVOKE_API_KEY, json!({ "id": id }), bearer)
            .await
    }

    pub async fn api_keys(&self, bearer: Option<&str>) -> GqlResponse {
        self.graphql(queries::API_KEYS, Value::Null, bearer).await
    }

    pub async fn tenant(&self, bearer: Option<&str>) -> GqlResponse {
        self.graphql(queries::TENANT, Value::Null, bearer).await
    }

    /// `recordAuditEvents(events)`.
    pub async fn record(&self, key: &str, events: Value) -> GqlResponse {
        self.graphql(
            queries::RECORD_EVENTS,
            json!({ "events": events }),
            Some(key),
        )
        .await
    }

    /// Records events, asserting success; returns them in input order.
    pub async fn record_ok(&self, key: &str, events: Value) -> Vec<Value> {
        let response = self.record(key, events).await;
        let events = response.field("recordAuditEvents")["events"]
            .as_array()
            .cloned();
        events.unwrap_or_else(|| panic!("recordAuditEvents returned no events: {}", response.text))
    }

    /// `auditEvents` with `args` as variables (`first`, `after`, `last`, `before`, `filter`).
    pub async fn list(&self, key: &str, args: Value) -> GqlResponse {
        self.list_as(Some(key), args).await
    }

    /// `auditEvents` with an arbitrary bearer.
    pub async fn list_as(&self, bearer: Option<&str>, args: Value) -> GqlResponse {
        self.graphql(queries::LIST_EVENTS, args, bearer).await
    }

    /// One page of `auditEvents`, asserting success.
    pub async fn page(&self, key: &str, args: Value) -> Page {
        let response = self.list(key, args).await;
        let connection = response.field("auditEvents");
        let edges = connection["edges"].as_array().cloned().unwrap_or_default();
        let info = &connection["pageInfo"];
        Page {
            nodes: edges.iter().map(|e| e["node"].clone()).collect(),
            cursors: edges.iter().map(|e| str_field(e, "cursor")).collect(),
            has_next_page: info["hasNextPage"]
                .as_bool()
                .unwrap_or_else(|| panic!("no hasNextPage: {}", response.text)),
            has_previous_page: info["hasPreviousPage"]
                .as_bool()
                .unwrap_or_else(|| panic!("no hasPreviousPage: {}", response.text)),
            start_cursor: info["startCursor"].as_str().map(str::to_owned),
            end_cursor: info["endCursor"].as_str().map(str::to_owned),
        }
    }

    /// Every event matching `filter` (`Value::Null` for all), newest first, read with
    /// forward pages of 500.
    pub async fn all_events(&self, key: &str, filter: Value) -> Vec<Value> {
        let mut events = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self
                .page(
                    key,
                    json!({ "first": 500, "after": after, "filter": filter }),
                )
                .await;
            events.extend(page.nodes);
            if !page.has_next_page {
                return events;
            }
            after = Some(
                page.end_cursor
                    .unwrap_or_else(|| panic!("hasNextPage without an endCursor")),
            );
        }
    }

    /// How many events the key's tenant has (self-audit events included).
    pub async fn event_count(&self, key: &str) -> usize {
        self.all_events(key, Value::Null).await.len()
    }

    /// `auditEvent(id)`.
    pub async fn event(&self, key: &str, id: &str) -> GqlResponse {
        self.graphql(queries::EVENT_BY_ID, json!({ "id": id }), Some(key))
            .await
    }

    /// `auditEventFacets`.
    pub async fn facets(&self, key: &str) -> GqlResponse {
        self.graphql(queries::FACETS, Value::Null, Some(key)).await
    }

    /// The tenant's `plan`, `createdAt` and `retention` policy, asserting success.
    pub async fn tenant_policy(&self, key: &str) -> Value {
        self.graphql(queries::TENANT_POLICY, Value::Null, Some(key))
            .await
            .field("tenant")
            .clone()
    }

    /// `setRetentionPolicy(days)`.
    pub async fn set_retention(&self, bearer: Option<&str>, days: i64) -> GqlResponse {
        self.graphql(
            queries::SET_RETENTION_POLICY,
            json!({ "days": days }),
            bearer,
        )
        .await
    }

    /// `setLegalHold` on the bearer's own tenant.
    pub async fn set_legal_hold(
        &self,
        bearer: Option<&str>,
        enabled: bool,
        reason: Option<&str>,
    ) -> GqlResponse {
        self.graphql(
            queries::SET_LEGAL_HOLD,
            json!({ "enabled": enabled, "reason": reason }),
            bearer,
        )
        .await
    }

    /// `setLegalHold` by the operator for `tenant_id` (the only way on TEAM).
    pub async fn operator_legal_hold(
        &self,
        tenant_id: &str,
        enabled: bool,
        reason: Option<&str>,
    ) -> GqlResponse {
        self.graphql(
            queries::SET_LEGAL_HOLD_FOR,
            json!({ "id": tenant_id, "enabled": enabled, "reason": reason }),
            Some(&self.operator_token),
        )
        .await
    }

    /// `changeTenantPlan(tenantId, plan)`.
    pub async fn change_plan(
        &self,
        bearer: Option<&str>,
        tenant_id: &str,
        plan: &str,
    ) -> GqlResponse {
        self.graphql(
            queries::CHANGE_TENANT_PLAN,
            json!({ "id": tenant_id, "plan": plan }),
            bearer,
        )
        .await
    }
}
