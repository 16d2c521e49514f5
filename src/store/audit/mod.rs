//! The audit tables: chain heads (one row per chain, locked by each appender) and
//! the append-only events (triggers refuse UPDATE and DELETE).

mod trail;
pub use trail::TrailReader;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::Conn;
use super::entity::{audit_chain_heads, audit_events};
use crate::domain::audit::{ACCESS_ACTIONS, Event, GENESIS_HASH, Search, StoredEvent};
use crate::error::AppError;

/// Locks the head of `chain` for the rest of the transaction and returns its last
/// sequence number and hash (0 and the genesis hash for a new chain). On PostgreSQL
/// the row lock (`SELECT … FOR UPDATE`) makes a second instance wait for the first
/// to commit; on SQLite the write transaction already excludes other writers.
pub async fn lock_head(db: &impl Conn, chain: &str) -> Result<(i64, String), AppError> {
    let locked = || audit_chain_heads::Entity::find_by_id(chain.to_string()).lock_exclusive();
    // A chain's head exists after its first event: one statement then.
    if let Some(head) = locked().one(db).await? {
        return Ok((head.seq, head.hash));
    }
    audit_chain_heads::Entity::insert(audit_chain_heads::ActiveModel {
        chain: Set(chain.to_string()),
        seq: Set(0),
        hash: Set(GENESIS_HASH.to_string()),
    })
    .on_conflict_do_nothing()
    .exec(db)
    .await?;
    let head = locked()
        .one(db)
        .await?
        .ok_or_else(|| AppError::Internal(format!("audit chain head {chain} vanished")))?;
    Ok((head.seq, head.hash))
}

/// Stores consecutive events of one chain in one statement and moves its head to
/// the last (after `lock_head`). For loading a large chain at once, as the audit
/// benchmark does; the service appends one event at a time with `append`.
pub async fn append_many(db: &impl Conn, events: &[Event]) -> Result<(), AppError> {
    let Some(last) = events.last() else { return Ok(()) };
    audit_events::Entity::insert_many(events.iter().map(row)).exec(db).await?;
    move_head(db, last).await
}

/// Stores an event and moves the chain head to it. Call after `lock_head`.
pub async fn append(db: &impl Conn, event: &Event) -> Result<(), AppError> {
    row(event).insert(db).await?;
    move_head(db, event).await
}

fn row(event: &Event) -> audit_events::ActiveModel {
    audit_events::ActiveModel {
        chain: Set(event.chain.clone()),
        seq: Set(event.seq),
        at: Set(event.at),
        actor: Set(event.actor.clone()),
        action: Set(event.action.clone()),
        study: Set(event.study.clone()),
        entity: Set(event.entity.clone()),
        entity_id: Set(event.entity_id.clone()),
        details: Set(crate::domain::audit::canonical_json(&event.details)),
        prev_hash: Set(event.prev_hash.clone()),
        hash: Set(event.hash.clone()),
        ..Default::default()
    }
}

async fn move_head(db: &impl Conn, event: &Event) -> Result<(), AppError> {
    audit_chain_heads::ActiveModel {
        chain: Set(event.chain.clone()),
        seq: Set(event.seq),
        hash: Set(event.hash.clone()),
    }
    .update(db)
    .await?;
    Ok(())
}

fn to_domain(m: audit_events::Model) -> Event {
    stored(m).into_event()
}

fn stored(m: audit_events::Model) -> StoredEvent {
    StoredEvent {
        chain: m.chain,
        seq: m.seq,
        at: m.at,
        actor: m.actor,
        action: m.action,
        study: m.study,
        entity: m.entity,
        entity_id: m.entity_id,
        details: m.details,
        prev_hash: m.prev_hash,
        hash: m.hash,
    }
}

/// Every chain with its recorded head `(chain, seq, hash)`, in name order.
pub async fn heads(db: &impl Conn) -> Result<Vec<(String, i64, String)>, AppError> {
    Ok(audit_chain_heads::Entity::find()
        .order_by_asc(audit_chain_heads::Column::Chain)
        .all(db)
        .await?
        .into_iter()
        .map(|h| (h.chain, h.seq, h.hash))
        .collect())
}

/// Up to `limit` events of `chain` after sequence number `after`, in order.
pub async fn page(
    db: &impl Conn,
    chain: &str,
    after: i64,
    limit: u64,
) -> Result<Vec<Event>, AppError> {
    Ok(stored_page(db, chain, after, limit)
        .await?
        .into_iter()
        .map(StoredEvent::into_event)
        .collect())
}

/// `page` as stored, the details left as their text (for verification).
pub async fn stored_page(
    db: &impl Conn,
    chain: &str,
    after: i64,
    limit: u64,
) -> Result<Vec<StoredEvent>, AppError> {
    Ok(audit_events::Entity::find()
        .filter(audit_events::Column::Chain.eq(chain))
        .filter(audit_events::Column::Seq.gt(after))
        .order_by_asc(audit_events::Column::Seq)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(stored)
        .collect())
}

/// Chains that have events but no head row (a head deleted behind the service's back).
pub async fn chains_with_events(db: &impl Conn) -> Result<Vec<String>, AppError> {
    let rows = audit_events::Entity::find()
        .select_only()
        .column(audit_events::Column::Chain)
        .distinct()
        .into_tuple::<String>()
        .all(db)
        .await?;
    Ok(rows)
}

/// Every event with this action, in chain order.
pub async fn by_action(db: &impl Conn, action: &str) -> Result<Vec<Event>, AppError> {
    Ok(audit_events::Entity::find()
        .filter(audit_events::Column::Action.eq(action))
        .order_by_asc(audit_events::Column::Chain)
        .order_by_asc(audit_events::Column::Seq)
        .all(db)
        .await?
        .into_iter()
        .map(to_domain)
        .collect())
}

/// Up to `limit` events matching `search`, newest first, each with its row id (the
/// place to continue from).
pub async fn search(
    db: &impl Conn,
    search: &Search<'_>,
    limit: u64,
) -> Result<Vec<(i64, Event)>, AppError> {
    let mut query = audit_events::Entity::find();
    if let Some(chain) = search.chain {
        query = query.filter(audit_events::Column::Chain.eq(chain));
    }
    if let Some(actor) = search.actor {
        query = query.filter(audit_events::Column::Actor.eq(actor));
    }
    if let Some(action) = search.action {
        query = match action.strip_suffix('.') {
            Some(area) => {
                query.filter(audit_events::Column::Action.starts_with(format!("{area}.")))
            }
            None => query.filter(audit_events::Column::Action.eq(action)),
        };
    }
    if let Some(entity) = search.entity {
        query = query.filter(audit_events::Column::Entity.eq(entity));
    }
    if let Some(since) = search.since {
        query = query.filter(audit_events::Column::At.gte(since));
    }
    if let Some(until) = search.until {
        query = query.filter(audit_events::Column::At.lt(until));
    }
    if search.access_only {
        query = query.filter(audit_events::Column::Action.is_in(ACCESS_ACTIONS.iter().copied()));
    }
    if let Some(before) = search.before {
        query = query.filter(audit_events::Column::Id.lt(before));
    }
    Ok(query
        .order_by_desc(audit_events::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, to_domain(m)))
        .collect())
}
