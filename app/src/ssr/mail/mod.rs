//! Mail: what messages say ([`letter`], [`messages`]) and how they leave ([`Mailer`]).
//!
//! Nothing sends mail directly. A service queues a [`letter::Letter`] in the outbox inside the
//! transaction that causes it (`services::mail::queue`), and the delivery worker
//! (`services::mail::deliver_due`) hands each queued message to the [`Mailer`]: SMTP through
//! lettre when `SMTP_URL` is set, otherwise an `.eml` file per message in `MAIL_DIR`.

pub mod letter;
pub mod messages;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A queued message, as the worker hands it to the mailer.
#[derive(Debug, Clone)]
pub struct OutgoingMail {
    /// The outbox id: also the message's `Message-ID`, so a retried delivery is recognisably
    /// the same message, and the `.eml` file's name, so a retry overwrites instead of adding.
    pub id: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Why a delivery failed, and whether trying again can help.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The server is down, busy or said "try later": retry with backoff.
    #[error("{0}")]
    Transient(String),
    /// The server refused this message for good (an address it will never accept).
    #[error("{0}")]
    Permanent(String),
}

/// Where mail goes.
pub enum Mailer {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
        /// The host part of Message-IDs.
        domain: String,
    },
    Files {
        dir: PathBuf,
        from: Mailbox,
        domain: String,
    },
}

impl Mailer {
    /// SMTP through `smtp_url` (`smtp://user:pass@host:587?tls=required` for STARTTLS,
    /// `smtps://user:pass@host:465` for implicit TLS), or `.eml` files in `dir` without one.
    pub fn new(
        smtp_url: Option<&str>,
        dir: &Path,
        from: &str,
        public_url: &str,
    ) -> anyhow::Result<Mailer> {
        let from: Mailbox = from
            .parse()
            .map_err(|err| anyhow::anyhow!("MAIL_FROM `{from}` is not a mail address: {err}"))?;
        let domain = public_url
            .split_once("://")
            .map_or(public_url, |(_, rest)| rest)
            .split(['/', ':'])
            .next()
            .filter(|host| !host.is_empty())
            .unwrap_or("ticketing.invalid")
            .to_string();
        match smtp_url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|err| anyhow::anyhow!("SMTP_URL is not usable: {err}"))?
                    .timeout(Some(Duration::from_secs(20)))
                    .build();
                Ok(Mailer::Smtp {
                    transport,
                    from,
                    domain,
                })
            }
            None => Ok(Mailer::Files {
                dir: dir.to_path_buf(),
                from,
                domain,
            }),
        }
    }

    /// Where mail goes, for the start-up log (never with the SMTP password).
    pub fn describe(&self) -> String {
        match self {
            Mailer::Smtp { .. } => "SMTP (SMTP_URL)".to_string(),
            Mailer::Files { dir, .. } => format!(".eml files in {}", dir.display()),
        }
    }

    /// Delivers one message.
    pub async fn send(&self, mail: &OutgoingMail) -> Result<(), SendError> {
        match self {
            Mailer::Smtp {
                transport,
                from,
                domain,
            } => {
                let message = build(mail, from, domain)?;
                transport.send(message).await.map_err(|err| {
                    if err.is_permanent() {
                        SendError::Permanent(format!("{err}"))
                    } else {
                        SendError::Transient(format!("{err}"))
                    }
                })?;
                Ok(())
            }
            Mailer::Files { dir, from, domain } => {
                let message = build(mail, from, domain)?;
                write_eml(dir, &mail.id, &message.formatted())
                    .await
                    .map_err(|err| {
                        SendError::Transient(format!(
                            "could not write the message to {}: {err}",
                            dir.display()
                        ))
                    })?;
                tracing::info!(to = %mail.to, subject = %mail.subject, file = %format!("{}.eml", mail.id), "mail written (no SMTP_URL)");
                Ok(())
            }
        }
    }
}

/// The MIME message: a plain-text and an HTML alternative, the HTML with the QR images of the
/// ticket codes it shows.
fn build(mail: &OutgoingMail, from: &Mailbox, domain: &str) -> Result<Message, SendError> {
    let to: Mailbox = mail.to.parse().map_err(|err| {
        SendError::Permanent(format!("`{}` is not a deliverable address: {err}", mail.to))
    })?;
    let codes = letter::inline_qr_codes(&mail.html);
    let body = if codes.is_empty() {
        MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone())
    } else {
        // The HTML and the QR images it shows travel together (`multipart/related`).
        let mut related = MultiPart::related().singlepart(SinglePart::html(mail.html.clone()));
        for code in codes {
            let Some(png) = crate::ssr::qr::png(&code) else {
                continue;
            };
            related = related.singlepart(
                Attachment::new_inline(format!("qr.{code}"))
                    .body(png, ContentType::parse("image/png").expect("a MIME type")),
            );
        }
        MultiPart::alternative()
            .singlepart(SinglePart::plain(mail.text.clone()))
            .multipart(related)
    };
    Message::builder()
        .message_id(Some(format!("<{}@{}>", mail.id, domain)))
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .multipart(body)
        .map_err(|err| SendError::Permanent(format!("could not build the message: {err}")))
}

/// Writes `<id>.eml` whole or not at all (a temporary file renamed into place), so a reader
/// never sees half a message and a retry replaces rather than duplicates.
async fn write_eml(dir: &Path, id: &str, bytes: &[u8]) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let partial = dir.join(format!(".{id}.eml.partial"));
    tokio::fs::write(&partial, bytes).await?;
    tokio::fs::rename(&partial, dir.join(format!("{id}.eml"))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn without_smtp_each_message_is_one_eml_file_named_by_its_id() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = Mailer::new(
            None,
            dir.path(),
            "Ticketing <tickets@example.org>",
            "https://tickets.example.org",
        )
        .unwrap();
        let mail = OutgoingMail {
            id: "m1".into(),
            to: "buyer@example.com".into(),
            subject: "Your ticket — Cup final".into(),
            text: "Plain words".into(),
            html: "<p>Rich words</p>".into(),
        };
        mailer.send(&mail).await.unwrap();
        mailer.send(&mail).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(files, ["m1.eml"], "a retry replaces the file");
        let eml = std::fs::read_to_string(dir.path().join("m1.eml")).unwrap();
        assert!(
            eml.contains("Message-ID: <m1@tickets.example.org>"),
            "{eml}"
        );
        assert!(eml.contains("To: buyer@example.com"), "{eml}");
        assert!(eml.contains("multipart/alternative"), "{eml}");
        assert!(eml.contains("Plain words") && eml.contains("<p>Rich words</p>"));
    }

    #[tokio::test]
    async fn an_address_lettre_cannot_use_is_a_permanent_failure() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = Mailer::new(None, dir.path(), "tickets@example.org", "http://x").unwrap();
        let mail = OutgoingMail {
            id: "m2".into(),
            to: "not an address".into(),
            subject: "s".into(),
            text: "t".into(),
            html: "h".into(),
        };
        assert!(matches!(
            mailer.send(&mail).await,
            Err(SendError::Permanent(_))
        ));
    }

    #[test]
    fn a_bad_sender_or_smtp_url_is_refused_at_start() {
        let dir = std::path::Path::new("unused");
        assert!(Mailer::new(None, dir, "no at sign", "http://x").is_err());
        assert!(Mailer::new(Some("ftp://mail"), dir, "a@b.c", "http://x").is_err());
    }
}
