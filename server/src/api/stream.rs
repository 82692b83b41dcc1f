//! `GET /api/tickets/stream`: Server-Sent Events of public ticket changes (see
//! `app::ssr::services::feed`). A listing's change is one `ticket` event whose data is the
//! ticket as it now stands: `{id, title, status, price, priceCents, buyerPriceCents, version,
//! startsAt, timeZone}`. An event's own seats are announced by section instead: one
//! `availability` event, `{type: "availability", eventId, sectionId, available}`.

use super::openapi::Refusals;
use app::AppError;
use app::ssr::AppState;
use app::ssr::services::feed::FeedItem;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::broadcast;

/// The subscriber's stream: one event per change, ending when it falls too far behind (the
/// browser reconnects) or the node stops publishing.
pub fn events(
    receiver: broadcast::Receiver<Arc<FeedItem>>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    futures::stream::unfold(receiver, |mut receiver| async move {
        match receiver.recv().await {
            Ok(item) => {
                let event = match &*item {
                    FeedItem::Ticket(change) => Event::default()
                        .event("ticket")
                        .id(change.version.to_string())
                        .json_data(change),
                    FeedItem::Availability(change) => {
                        Event::default().event("availability").json_data(change)
                    }
                }
                .unwrap_or_else(|_| Event::default().comment("unencodable change"));
                Some((Ok(event), receiver))
            }
            Err(broadcast::error::RecvError::Lagged(_) | broadcast::error::RecvError::Closed) => {
                None
            }
        }
    })
}

/// Server-Sent Events: one `ticket` event per change, whose data is the ticket's public facts.
#[utoipa::path(get, path = "/tickets/stream", tag = "tickets",
    responses((status = 200, content_type = "text/event-stream",
        description = "`event: ticket` with `data: {change, id, title, status, price, priceCents, buyerPriceCents, version, startsAt, timeZone}`; `event: availability` with `data: {type: \"availability\", eventId, sectionId, available}` for an event's own seats"),
        Refusals))]
pub async fn ticket_stream(State(state): State<AppState>) -> Response {
    match state.ticket_feed.subscribe() {
        Some(receiver) => Sse::new(events(receiver))
            .keep_alive(KeepAlive::default())
            .into_response(),
        None => {
            let mut response = AppError::Busy.into_response();
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("30"),
            );
            response
        }
    }
}
