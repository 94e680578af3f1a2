//! Installation-wide settings kept in `instance_settings`.

use entity::instance_settings;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue, ConnectionTrait, EntityTrait};

use super::StoreError;

const CURSOR_KEY: &str = "cursor_signing_key";

/// The key that signs pagination cursors: the stored one, or `candidate` stored
/// now if there is none yet. Concurrent first starts of several replicas agree,
/// because only the first insert wins and everyone reads the winner back.
pub async fn cursor_signing_key(
    db: &impl ConnectionTrait,
    candidate: String,
) -> Result<String, StoreError> {
    let row = instance_settings::ActiveModel {
        key: ActiveValue::Set(CURSOR_KEY.to_owned()),
        value: ActiveValue::Set(candidate),
    };
    instance_settings::Entity::insert(row)
        .on_conflict(
            OnConflict::column(instance_settings::Column::Key)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    let stored = instance_settings::Entity::find_by_id(CURSOR_KEY.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound(CURSOR_KEY.to_owned()))?;
    Ok(stored.value)
}
