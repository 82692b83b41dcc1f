//! The outbox: mail is queued in the transaction of the change that causes it, and delivered
//! afterwards by a worker on every node, with retries and backoff.
//!
//! Why nothing is lost: a message exists as soon as its cause is committed, and stays queued
//! until the mailer has accepted it. Why nothing is sent twice: a worker claims a message
//! with a lease (on PostgreSQL skipping rows another node is claiming), and marks it sent as
//! soon as the mailer returns. The one gap no outbox can close is a crash between the SMTP
//! server's "accepted" and that mark: the message is then sent again when its lease runs out,
//! with the same `Message-ID`.

use crate::domain::Timestamp;
use crate::domain::mail::retry_delay_ms;
use crate::error::AppError;
use crate::ssr::Ctx;
use crate::ssr::mail::letter::Letter;
use crate::ssr::mail::{OutgoingMail, SendError};
use crate::ssr::storage::outbox::{self, NewMail};
use sqlx::AnyConnection;

/// How long a claimed message is a worker's own: longer than an SMTP delivery can take.
pub const LEASE_MS: i64 = 5 * 60 * 1000;
/// Messages claimed at a time.
const BATCH: i64 = 20;

/// Queues `letter` inside the caller's transaction: it is sent if and only if that commits.
/// Call [`Ctx::mail_queued`] after the commit to have it sent at once rather than at the
/// worker's next round.
#[tracing::instrument(skip_all, fields(kind = letter.kind))]
pub async fn queue(
    conn: &mut AnyConnection,
    letter: &Letter,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    let id = crate::ssr::clock::new_id();
    outbox::insert_mail(
        conn,
        &NewMail {
            id: &id,
            kind: letter.kind,
            recipient: &letter.to,
            subject: &letter.subject,
            text_body: &letter.plain_text(),
            html_body: &letter.html(),
        },
        now,
    )
    .await
}

/// Delivers every message that is due now; returns how many were delivered.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn deliver_due(ctx: &Ctx) -> Result<usize, AppError> {
    let mut delivered = 0;
    loop {
        let now = ctx.now();
        let claimed = {
            let mut tx = ctx.db().begin_write().await?;
            let claimed = outbox::claim_due(&mut tx, now, LEASE_MS, BATCH).await?;
            tx.commit().await?;
            claimed
        };
        if claimed.is_empty() {
            return Ok(delivered);
        }
        let batch = claimed.len();
        for mail in claimed {
            let outgoing = OutgoingMail {
                id: mail.id.clone(),
                to: mail.recipient.clone(),
                subject: mail.subject.clone(),
                text: mail.text_body,
                html: mail.html_body,
            };
            let result = ctx.app().mailer.send(&outgoing).await;
            let now = ctx.now();
            let mut conn = ctx.db().write.acquire().await?;
            match result {
                Ok(()) => {
                    outbox::mark_sent(&mut conn, &mail.id, now).await?;
                    delivered += 1;
                }
                Err(SendError::Transient(error)) => {
                    let retry_at =
                        Timestamp::from_millis(now.millis() + retry_delay_ms(mail.attempts));
                    tracing::warn!(mail = %mail.id, kind = %mail.kind, attempts = mail.attempts, %error, "mail not delivered; will retry");
                    outbox::mark_retry(&mut conn, &mail.id, &error, retry_at).await?;
                }
                Err(SendError::Permanent(error)) => {
                    tracing::error!(mail = %mail.id, kind = %mail.kind, %error, "mail refused for good");
                    outbox::mark_failed(&mut conn, &mail.id, &error, now).await?;
                }
            }
        }
        if (batch as i64) < BATCH {
            return Ok(delivered);
        }
    }
}

/// Delivers due mail at once when a service queues some on this node, and every `every`
/// otherwise (mail queued on other nodes, retries coming due).
pub async fn run_mail_worker(ctx: Ctx, every: std::time::Duration) {
    let wake = ctx.app().mail_queued.clone();
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = wake.notified() => {}
        }
        match deliver_due(&ctx).await {
            Ok(0) => {}
            Ok(count) => tracing::debug!(count, "mail delivered"),
            Err(err) => tracing::warn!(error = ?err, "mail delivery round failed; retrying"),
        }
    }
}
