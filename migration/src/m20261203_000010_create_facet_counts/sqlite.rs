//! The rollups on SQLite: row-level triggers with upserts.
//!
//! SQLite has no statement-level triggers; a row's four upserts are B-tree
//! operations in the same process and transaction, cheap next to the row's own
//! index writes. The UTC day is the first ten characters of `occurred_at`,
//! which is stored as RFC 3339 text in UTC: the same text the store's range
//! comparisons on `occurred_at` order.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

const TRIGGERS: &str = r#"
CREATE TRIGGER audit_events_facet_counts_added AFTER INSERT ON audit_events
FOR EACH ROW BEGIN
  INSERT INTO audit_event_facet_totals (tenant_id, facet, value, label, count)
  VALUES (NEW.tenant_id, 'action', NEW.action, NULL, 1)
  ON CONFLICT (tenant_id, facet, value) DO UPDATE SET count = count + 1;
  INSERT INTO audit_event_facet_totals (tenant_id, facet, value, label, count)
  VALUES (NEW.tenant_id, 'actor', NEW.actor_id, NEW.actor_name, 1)
  ON CONFLICT (tenant_id, facet, value) DO UPDATE SET count = count + 1,
    label = CASE WHEN label IS NULL OR excluded.label > label THEN excluded.label ELSE label END;
  INSERT INTO audit_event_facet_days (tenant_id, facet, day, value, count)
  VALUES (NEW.tenant_id, 'action', substr(NEW.occurred_at, 1, 10), NEW.action, 1)
  ON CONFLICT (tenant_id, facet, day, value) DO UPDATE SET count = count + 1;
  INSERT INTO audit_event_facet_days (tenant_id, facet, day, value, count)
  VALUES (NEW.tenant_id, 'actor', substr(NEW.occurred_at, 1, 10), NEW.actor_id, 1)
  ON CONFLICT (tenant_id, facet, day, value) DO UPDATE SET count = count + 1;
END;

CREATE TRIGGER audit_events_facet_counts_removed AFTER DELETE ON audit_events
FOR EACH ROW BEGIN
  UPDATE audit_event_facet_totals SET count = count - 1
  WHERE tenant_id = OLD.tenant_id AND ((facet = 'action' AND value = OLD.action)
                                    OR (facet = 'actor' AND value = OLD.actor_id));
  DELETE FROM audit_event_facet_totals
  WHERE tenant_id = OLD.tenant_id AND count <= 0
    AND ((facet = 'action' AND value = OLD.action) OR (facet = 'actor' AND value = OLD.actor_id));
  UPDATE audit_event_facet_days SET count = count - 1
  WHERE tenant_id = OLD.tenant_id AND day = substr(OLD.occurred_at, 1, 10)
    AND ((facet = 'action' AND value = OLD.action) OR (facet = 'actor' AND value = OLD.actor_id));
  DELETE FROM audit_event_facet_days
  WHERE tenant_id = OLD.tenant_id AND day = substr(OLD.occurred_at, 1, 10) AND count <= 0
    AND ((facet = 'action' AND value = OLD.action) OR (facet = 'actor' AND value = OLD.actor_id));
END;
"#;

/// Counts what is already stored (SQLite's `max` ignores NULL names, as the
/// trigger's `CASE` does).
const BACK_FILL: &str = r#"
INSERT INTO audit_event_facet_totals (tenant_id, facet, value, label, count)
SELECT tenant_id, 'action', action, NULL, count(*) FROM audit_events GROUP BY tenant_id, action;
INSERT INTO audit_event_facet_totals (tenant_id, facet, value, label, count)
SELECT tenant_id, 'actor', actor_id, max(actor_name), count(*) FROM audit_events
GROUP BY tenant_id, actor_id;
INSERT INTO audit_event_facet_days (tenant_id, facet, day, value, count)
SELECT tenant_id, 'action', substr(occurred_at, 1, 10), action, count(*) FROM audit_events
GROUP BY 1, 3, 4;
INSERT INTO audit_event_facet_days (tenant_id, facet, day, value, count)
SELECT tenant_id, 'actor', substr(occurred_at, 1, 10), actor_id, count(*) FROM audit_events
GROUP BY 1, 3, 4;
"#;

pub(super) async fn up(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    db.execute_unprepared(TRIGGERS).await?;
    db.execute_unprepared(BACK_FILL).await?;
    Ok(())
}

pub(super) async fn down(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    db.execute_unprepared(
        "DROP TRIGGER IF EXISTS audit_events_facet_counts_added;\n\
         DROP TRIGGER IF EXISTS audit_events_facet_counts_removed;\n",
    )
    .await?;
    Ok(())
}
