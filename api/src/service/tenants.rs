//! Creating a tenant together with its first ADMIN key.

use entity::{api_keys, tenants};
use sea_orm::DatabaseConnection;
use serde_json::json;
use uuid::Uuid;

use crate::auth::AuditActor;
use crate::domain::clock;
use crate::domain::secret::generate_key;
use crate::domain::{Plan, RetentionRules, Role, TenantSlug};
use crate::error::{ApiError, ApiResult};
use crate::live::Hub;
use crate::store;
use crate::store::admin_audit::{self, AdminAction};

pub(crate) const MAX_TENANT_NAME: usize = 200;

pub(crate) struct NewTenant {
    pub tenant: tenants::Model,
    pub admin_key: api_keys::Model,
    /// The whole first ADMIN key; returned once.
    pub admin_secret: String,
}

/// Creates the tenant with its plan's default retention and its first ADMIN key.
pub(crate) async fn create(
    db: &DatabaseConnection,
    live: &Hub,
    rules: &RetentionRules,
    slug: &str,
    name: &str,
    plan: Plan,
    actor: &AuditActor,
) -> ApiResult<NewTenant> {
    let slug = TenantSlug::parse(slug).map_err(ApiError::bad_input)?;
    let name = name.trim();
    // Control characters (NUL above all, which PostgreSQL cannot store) have
    // no place in a one-line label.
    if name.is_empty()
        || name.chars().count() > MAX_TENANT_NAME
        || name.chars().any(char::is_control)
    {
        return Err(ApiError::bad_input(format!(
            "name must be 1 to {MAX_TENANT_NAME} characters, without control characters"
        )));
    }
    let now = clock::now();
    // The id comes first: the whole creation runs scoped to the new tenant.
    let tenant_id = Uuid::now_v7();
    let txn = store::tenant_scope::begin(db, tenant_id).await?;
    let retention_days = rules.plan_default(plan);
    let tenant =
        store::tenants::create(&txn, tenant_id, &slug, name, plan, retention_days, now).await?;
    let key = generate_key(slug.as_str());
    let admin_key =
        store::api_keys::insert(&txn, tenant.id, "initial admin key", Role::Admin, &key, now)
            .await?;
    let created = AdminAction {
        action: "tenant.create",
        target_type: "tenant",
        target_id: tenant.id.to_string(),
        target_name: Some(tenant.name.clone()),
        payload: json!({ "slug": tenant.slug, "name": tenant.name, "plan": plan.as_db(),
                         "retentionDays": tenant.retention_days, "adminKeyId": admin_key.id }),
    };
    let sequence = admin_audit::record(&txn, tenant.id, actor, created, now).await?;
    // Re-read so the returned counter reflects the self-audit event.
    let tenant = store::tenants::find_by_id(&txn, tenant.id)
        .await?
        .unwrap_or(tenant);
    txn.commit().await?;
    live.published(tenant.id, sequence).await;
    Ok(NewTenant {
        tenant,
        admin_key,
        admin_secret: key.full,
    })
}
