//! The check that keeps `api/schema.graphql`, the schema as SDL, true.
//!
//! The committed SDL is part of the public contract: a change to a type, a
//! field or an argument shows in review as a diff of `api/schema.graphql`.
//! `cargo test -p auditlog-api sdl` fails when the code's schema and the
//! committed one differ; `AUDITLOG_UPDATE_SCHEMA=1` writes the new one.

use super::schema::schema_builder;

/// The schema's SDL, as clients and code generators see it with
/// introspection on (the types do not depend on settings).
pub(crate) fn sdl() -> String {
    schema_builder().finish().sdl()
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_schema;
    use async_graphql::parser::types::{
        FieldDefinition, TypeDefinition, TypeKind, TypeSystemDefinition,
    };

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

    /// Built-in scalars, described by the GraphQL specification.
    const BUILT_IN: &[&str] = &["String", "Int", "Boolean", "ID", "Float"];

    fn types() -> Vec<TypeDefinition> {
        parse_schema(sdl())
            .expect("the SDL parses")
            .definitions
            .into_iter()
            .filter_map(|definition| match definition {
                TypeSystemDefinition::Type(ty) => Some(ty.node),
                _ => None,
            })
            .filter(|ty| !ty.name.node.starts_with("__"))
            .collect()
    }

    fn described(description: &Option<async_graphql::Positioned<String>>) -> bool {
        description
            .as_ref()
            .is_some_and(|text| !text.node.trim().is_empty())
    }

    /// Every type, field, argument and enum value says what it is: the SDL is
    /// the documentation frontend engineers and code generators read.
    #[test]
    fn every_schema_element_is_described() {
        let mut missing = Vec::new();
        for ty in types() {
            let name = ty.name.node.to_string();
            if BUILT_IN.contains(&name.as_str()) {
                continue;
            }
            if !described(&ty.description) {
                missing.push(name.clone());
            }
            let mut check_field = |field: &FieldDefinition| {
                let path = format!("{name}.{}", field.name.node);
                if !described(&field.description) {
                    missing.push(path.clone());
                }
                for argument in &field.arguments {
                    if !described(&argument.node.description) {
                        missing.push(format!("{path}({}:)", argument.node.name.node));
                    }
                }
            };
            match &ty.kind {
                TypeKind::Object(object) => {
                    object.fields.iter().for_each(|f| check_field(&f.node));
                }
                TypeKind::Interface(interface) => {
                    interface.fields.iter().for_each(|f| check_field(&f.node));
                }
                TypeKind::InputObject(input) => {
                    for field in &input.fields {
                        if !described(&field.node.description) {
                            missing.push(format!("{name}.{}", field.node.name.node));
                        }
                    }
                }
                TypeKind::Enum(values) => {
                    for value in &values.values {
                        if !described(&value.node.description) {
                            missing.push(format!("{name}.{}", value.node.value.node));
                        }
                    }
                }
                TypeKind::Scalar | TypeKind::Union(_) => {}
            }
        }
        assert!(missing.is_empty(), "undescribed in the schema: {missing:?}");
    }

    /// Nothing leaks the implementation into the public descriptions.
    #[test]
    fn descriptions_do_not_name_internals() {
        let sdl = sdl();
        for internal in ["DateTime<", "domain::", "Rust", "crate::", "Implement the"] {
            assert!(!sdl.contains(internal), "the SDL mentions {internal:?}");
        }
    }

    /// Types whose `id` is globally unique: normalized client caches (Apollo
    /// InMemoryCache, urql graphcache) key objects by `id`/`_id`, so only real
    /// entities may have one.
    const ENTITIES: &[&str] = &[
        "AuditEvent",
        "Tenant",
        "ApiKey",
        "PlatformKey",
        "LogStream",
        "LogStreamDelivery",
    ];
    /// Snapshots that kept a deprecated `id` for existing clients.
    const DEPRECATED_SNAPSHOT_IDS: &[&str] = &["Actor", "Target", "ActorCount"];

    #[test]
    fn only_entities_have_an_id() {
        let mut wrong = Vec::new();
        for ty in types() {
            let TypeKind::Object(object) = &ty.kind else {
                continue;
            };
            let name = ty.name.node.as_str();
            for field in &object.fields {
                let field = &field.node;
                if !matches!(field.name.node.as_str(), "id" | "_id") {
                    continue;
                }
                let deprecated = field
                    .directives
                    .iter()
                    .any(|directive| directive.node.name.node == "deprecated");
                let allowed = ENTITIES.contains(&name)
                    || (deprecated && DEPRECATED_SNAPSHOT_IDS.contains(&name));
                if !allowed {
                    wrong.push(format!("{name}.{}", field.name.node));
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "`id` on types that are not entities with a globally unique id: {wrong:?}"
        );
    }
}
