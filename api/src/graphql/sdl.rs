//! The check that keeps `api/schema.graphql`, the schema as SDL, true.
//!
//! The committed SDL is part of the public contract: a change to a type, a
//! field or an argument shows in review as a diff of `api/schema.graphql`.
//! `cargo test -p auditlog-api sdl` fails when the code's schema and the
//! committed one differ; `AUDITLOG_UPDATE_SCHEMA=1` writes the new one.

use async_graphql::{Schema, SchemaBuilder};

use super::mutation::MutationRoot;
use super::query::QueryRoot;
use super::subscription::SubscriptionRoot;

/// The schema's SDL, as clients and code generators see it with
/// introspection on (the types do not depend on settings).
pub(crate) fn sdl() -> String {
    let builder: SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> =
        Schema::build(QueryRoot, MutationRoot, SubscriptionRoot);
    builder.finish().sdl()
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMITTED: &str = include_str!("../../schema.graphql");

    #[test]
    fn committed_sdl_matches_the_code() {
        let current = sdl();
        if std::env::var_os("AUDITLOG_UPDATE_SCHEMA").is_some() {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
            std::fs::write(path, &current).unwrap();
            return;
        }
        assert!(
            current == COMMITTED,
            "api/schema.graphql is out of date: run \
             `AUDITLOG_UPDATE_SCHEMA=1 cargo test -p auditlog-api sdl` and commit the diff"
        );
    }
}
