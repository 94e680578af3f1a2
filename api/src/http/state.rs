//! [`AppState`]: what every handler can reach.

use sea_orm::DatabaseConnection;

use crate::auth::Authenticator;
use crate::graphql::AuditLogSchema;

#[derive(Clone)]
pub struct AppState {
    pub schema: AuditLogSchema,
    pub authenticator: Authenticator,
    pub db: DatabaseConnection,
    /// Serve GraphiQL to browsers on `GET /graphql`.
    pub graphiql: bool,
}
