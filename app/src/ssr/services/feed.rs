//! The live feed of public ticket changes behind `GET /api/tickets/stream`: listed, reserved,
//! released, sold, repriced, taken down.
//!
//! Every change to a ticket appends a domain event in its own transaction (`Ticket*` events
//! name the ticket, `Order*` events carry its `ticketId`), so the feed reads the event log
//! rather than asking every service to announce its changes: a change made on any node, by any
//! path, is seen by every node's subscribers. One task per node tails the log while anyone is
//! subscribed, reads each changed ticket as it now stands, and broadcasts it. The broadcast
//! buffer is bounded: a subscriber that falls that far behind is dropped (its stream ends and
//! the browser's `EventSource` reconnects), never buffered for without limit.

use crate::domain::{Id, Ticket, Timestamp};
use crate::ssr::Ctx;
use crate::ssr::storage::{event_log, events, tickets};
use serde::Serialize;
use std::sync::Arc;
use tokio::sync::broadcast;

/// How many changes a subscriber may be behind before it is dropped.
pub const BACKLOG: usize = 512;
/// Subscribers one node serves at once; more are asked to come back later (each holds a
/// connection, and connections are capped below the file limit).
pub const MAX_SUBSCRIBERS: usize = 400;
/// Events read from the log per round.
const BATCH: i64 = 500;

/// A ticket as the feed shows it: public facts only (no seller, no order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketChange {
    /// What happened last: `listed`, `updated`, `reserved`, `released`, `sold` or `removed`.
    pub change: &'static str,
    pub id: String,
    pub title: String,
    /// `available`, `reserved`, `sold` or `removed`, as of the change.
    pub status: &'static str,
    /// The price, as pages show it (`$20.00`).
    pub price: String,
    pub price_cents: i64,
    /// What a buyer pays, fees included.
    pub buyer_price_cents: i64,
    pub version: i64,
    /// RFC 3339 with the venue's offset.
    pub starts_at: Option<String>,
    /// The venue's IANA time zone, when the listing has one.
    pub time_zone: Option<&'static str>,
}

/// How many seats of an event's section are on sale now: sent instead of one change per seat
/// when an event's own seats are reserved, sold or released.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AvailabilityChange {
    /// Always `availability`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub event_id: String,
    pub section_id: String,
    pub available: i64,
}

/// What a subscriber hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedItem {
    /// A listing (an other listing or a resale listing) changed.
    Ticket(TicketChange),
    /// A section's seats on sale changed.
    Availability(AvailabilityChange),
}

/// The node's feed: subscribe to hear every change from now on.
#[derive(Clone)]
pub struct TicketFeed {
    sender: broadcast::Sender<Arc<FeedItem>>,
}

impl Default for TicketFeed {
    fn default() -> TicketFeed {
        TicketFeed {
            sender: broadcast::channel(BACKLOG).0,
        }
    }
}

impl TicketFeed {
    /// A new subscriber, or `None` when the node serves [`MAX_SUBSCRIBERS`] already.
    pub fn subscribe(&self) -> Option<broadcast::Receiver<Arc<FeedItem>>> {
        (self.sender.receiver_count() < MAX_SUBSCRIBERS).then(|| self.sender.subscribe())
    }

    pub fn subscribers(&self) -> usize {
        self.sender.receiver_count()
    }

    /// Sends one change to every subscriber (nobody listening is fine).
    pub fn publish(&self, change: FeedItem) {
        let _ = self.sender.send(Arc::new(change));
    }
}

/// The ticket an event is about and what it did to it, if it changes a ticket's public state.
pub fn ticket_of(
    event_type: &str,
    aggregate_id: &str,
    payload: &str,
) -> Option<(Id, &'static str)> {
    let change = match event_type {
        "TicketCreated" => "listed",
        "TicketUpdated" => "updated",
        "TicketRemoved" => "removed",
        "OrderCreated" => "reserved",
        "OrderCompleted" => "sold",
        "OrderCancelled" | "OrderExpired" | "OrderRefunded" => "released",
        _ => return None,
    };
    let id = if event_type.starts_with("Ticket") {
        aggregate_id.to_string()
    } else {
        serde_json::from_str::<serde_json::Value>(payload)
            .ok()?
            .get("ticketId")?
            .as_str()?
            .to_string()
    };
    Some((Id::parse(&id).ok()?, change))
}

impl TicketChange {
    pub fn new(ticket: &Ticket, change: &'static str, ctx: &Ctx, now: Timestamp) -> TicketChange {
        let settings = ctx.settings();
        TicketChange {
            change,
            id: ticket.id.to_string(),
            title: ticket.title.clone(),
            status: ticket.status_at(now).as_str(),
            price: crate::domain::format_money(ticket.price.cents(), &settings.currency),
            price_cents: ticket.price.cents(),
            buyer_price_cents: settings.fees.breakdown(ticket.price).total_cents,
            version: ticket.version,
            starts_at: ticket.starts_at.map(|at| at.rfc3339_in(ticket.time_zone)),
            time_zone: ticket.time_zone.map(crate::domain::Zone::name),
        }
    }
}

/// Numbers the events committed to the log since the last numbering, so that a read of the
/// log that follows sees them in order (PostgreSQL: `event_log::number_new_events`, in a short
/// transaction of its own; SQLite's log needs none).
pub async fn number_new_events(ctx: &Ctx) -> Result<(), sqlx::Error> {
    if ctx.db().backend() != crate::ssr::storage::Backend::Postgres {
        return Ok(());
    }
    // Numbering changes no listing: the browse cache's reads stay.
    let mut tx = ctx.db().begin_write_keeping_reads().await?;
    event_log::number_new_events(&mut tx).await?;
    tx.commit().await
}

/// One round: publishes the tickets changed by events after `after`; returns the last event id
/// read. Each changed ticket is published once per round, as it stands now.
#[tracing::instrument(level = "debug", skip_all, fields(after))]
pub async fn publish_changes(ctx: &Ctx, feed: &TicketFeed, after: i64) -> anyhow::Result<i64> {
    number_new_events(ctx).await?;
    let mut conn = ctx.db().read.acquire().await?;
    let read = event_log::list_events_after(&mut conn, after, BATCH).await?;
    let Some(last) = read.last().map(|e| e.id) else {
        return Ok(after);
    };
    // Each ticket once, with the last thing that happened to it.
    let mut changed: Vec<(Id, &'static str)> = Vec::new();
    for event in &read {
        if let Some((id, change)) =
            ticket_of(&event.event_type, &event.aggregate_id, &event.payload)
        {
            match changed.iter_mut().find(|(seen, _)| *seen == id) {
                Some(entry) => entry.1 = change,
                None => changed.push((id, change)),
            }
        }
    }
    let now = ctx.now();
    // An event's own seats are announced as their sections' counts, once per section.
    let mut sections: Vec<(Id, Id)> = Vec::new();
    for (id, change) in changed {
        let Some(ticket) = tickets::find_ticket(&mut conn, &id).await? else {
            continue;
        };
        match &ticket.event_seat {
            Some(seat) if ticket.is_primary() => {
                let key = (seat.event_id.clone(), seat.section_id.clone());
                if !sections.contains(&key) {
                    sections.push(key);
                }
            }
            _ => feed.publish(FeedItem::Ticket(TicketChange::new(
                &ticket, change, ctx, now,
            ))),
        }
    }
    let mut counted: Option<(Id, std::collections::HashMap<Id, events::SeatCounts>)> = None;
    for (event, section) in sections {
        if counted.as_ref().is_none_or(|(of, _)| *of != event) {
            counted = Some((
                event.clone(),
                events::seat_counts(&mut conn, &event, now).await?,
            ));
        }
        let available = counted
            .as_ref()
            .and_then(|(_, counts)| counts.get(&section))
            .map_or(0, |c| c.available);
        feed.publish(FeedItem::Availability(AvailabilityChange {
            kind: "availability",
            event_id: event.to_string(),
            section_id: section.to_string(),
            available,
        }));
    }
    Ok(last)
}

/// The node's feed task: every `every` it reads the event log on from where it was and, while
/// anyone is subscribed, publishes what changed (with nobody subscribed it only notes where the
/// log ends). A subscriber therefore hears every change committed after it subscribed.
pub async fn run_ticket_feed(ctx: Ctx, feed: TicketFeed, every: std::time::Duration) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut after: Option<i64> = None;
    loop {
        ticker.tick().await;
        let round = match after {
            Some(after) if feed.subscribers() > 0 => publish_changes(&ctx, &feed, after).await,
            _ => {
                async {
                    number_new_events(&ctx).await?;
                    Ok(event_log::last_event_id(&mut *ctx.db().read.acquire().await?).await?)
                }
                .await
            }
        };
        match round {
            Ok(last) => after = Some(last),
            Err(err) => {
                tracing::warn!(error = %err, "the ticket feed could not read the event log; retrying")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(n: i64) -> TicketChange {
        TicketChange {
            change: "listed",
            id: format!("t{n}"),
            title: "x".into(),
            status: "available",
            price: "$1.00".into(),
            price_cents: 100,
            buyer_price_cents: 100,
            version: n,
            starts_at: None,
            time_zone: None,
        }
    }

    #[test]
    fn events_name_the_ticket_they_change() {
        let ticket = "0190f1d2-7c3a-7d4e-8f00-000000000001";
        assert_eq!(
            ticket_of("TicketUpdated", ticket, "{}").map(|(id, c)| (id.to_string(), c)),
            Some((ticket.to_string(), "updated"))
        );
        let payload =
            format!(r#"{{"id":"0190f1d2-7c3a-7d4e-8f00-000000000002","ticketId":"{ticket}"}}"#);
        assert_eq!(
            ticket_of(
                "OrderExpired",
                "0190f1d2-7c3a-7d4e-8f00-000000000002",
                &payload
            )
            .map(|(id, c)| (id.to_string(), c)),
            Some((ticket.to_string(), "released"))
        );
        assert_eq!(ticket_of("UserCreated", ticket, "{}"), None);
        assert_eq!(ticket_of("ChargeCompleted", ticket, "{}"), None);
        assert_eq!(ticket_of("OrderCreated", "x", "not json"), None);
        assert_eq!(ticket_of("TicketUpdated", "<script>", "{}"), None);
    }

    #[test]
    fn a_subscriber_that_falls_behind_is_dropped_not_buffered_without_bound() {
        let feed = TicketFeed::default();
        let mut slow = feed.subscribe().unwrap();
        let mut keeping_up = feed.subscribe().unwrap();
        for n in 0..(BACKLOG as i64 + 10) {
            feed.publish(FeedItem::Ticket(change(n)));
            match &*keeping_up.try_recv().unwrap() {
                FeedItem::Ticket(heard) => assert_eq!(heard.version, n),
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(
            slow.try_recv(),
            Err(broadcast::error::TryRecvError::Lagged(10))
        ));
    }

    #[test]
    fn subscribers_are_capped() {
        let feed = TicketFeed::default();
        let held: Vec<_> = (0..MAX_SUBSCRIBERS)
            .map(|_| feed.subscribe().unwrap())
            .collect();
        assert!(feed.subscribe().is_none());
        drop(held);
        assert!(feed.subscribe().is_some());
    }
}
