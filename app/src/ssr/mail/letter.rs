//! What a message says, written once: a [`Letter`] is a subject and a few blocks, and both the
//! plain-text and the HTML part are rendered from it, so the two never drift apart. Every piece
//! of text that reaches the HTML part is escaped here, whoever wrote it (ticket titles are the
//! sellers').

use std::fmt::Write;

/// One message to one person, before it is queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    /// What the message is, for logs and tests (`verify_email`, `receipt`, …).
    pub kind: &'static str,
    pub to: String,
    pub subject: String,
    pub blocks: Vec<Block>,
}

/// A piece of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A paragraph.
    Text(String),
    /// A link the message is about, shown as a button in HTML and as a bare URL in text.
    Action { label: String, url: String },
    /// A ticket code: in a monospace box to copy exactly and, in HTML, as a QR code to scan
    /// (an image inside the message, `cid:qr.<code>`: see [`inline_qr_codes`]).
    Code { label: String, value: String },
    /// A labelled line of a receipt (`Price: $20.00`).
    Fact { label: String, value: String },
}

const SIGNATURE: &str = "— Ticketing";

impl Letter {
    pub fn new(kind: &'static str, to: &str, subject: impl Into<String>) -> Letter {
        Letter {
            kind,
            to: to.to_string(),
            subject: subject.into(),
            blocks: Vec::new(),
        }
    }

    pub fn text(mut self, paragraph: impl Into<String>) -> Letter {
        self.blocks.push(Block::Text(paragraph.into()));
        self
    }

    pub fn action(mut self, label: impl Into<String>, url: impl Into<String>) -> Letter {
        self.blocks.push(Block::Action {
            label: label.into(),
            url: url.into(),
        });
        self
    }

    pub fn code(mut self, label: impl Into<String>, value: impl Into<String>) -> Letter {
        self.blocks.push(Block::Code {
            label: label.into(),
            value: value.into(),
        });
        self
    }

    pub fn fact(mut self, label: impl Into<String>, value: impl Into<String>) -> Letter {
        self.blocks.push(Block::Fact {
            label: label.into(),
            value: value.into(),
        });
        self
    }

    /// The plain-text part.
    pub fn plain_text(&self) -> String {
        let mut out = String::new();
        let mut facts = false;
        for block in &self.blocks {
            let is_fact = matches!(block, Block::Fact { .. });
            // A blank line between blocks, except inside a run of facts.
            let continues_facts = is_fact && facts;
            if !out.is_empty() && !continues_facts {
                out.push('\n');
            }
            facts = is_fact;
            match block {
                Block::Text(text) => {
                    let _ = writeln!(out, "{text}");
                }
                Block::Action { label, url } => {
                    let _ = writeln!(out, "{label}:\n{url}");
                }
                Block::Code { label, value } => {
                    let _ = writeln!(out, "{label}: {value}");
                }
                Block::Fact { label, value } => {
                    let _ = writeln!(out, "{label}: {value}");
                }
            }
        }
        let _ = write!(out, "\n{SIGNATURE}\n");
        out
    }

    /// The HTML part: one small, inline-styled page that mail clients show as it is.
    pub fn html(&self) -> String {
        let mut out = String::from("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
        out.push_str(&escape(&self.subject));
        out.push_str(
            "</title></head>\n<body style=\"font-family: system-ui, sans-serif; color: #1a1a1a; \
             line-height: 1.5; max-width: 36rem; margin: 0 auto; padding: 1rem;\">\n",
        );
        let mut in_facts = false;
        for block in &self.blocks {
            let is_fact = matches!(block, Block::Fact { .. });
            if in_facts && !is_fact {
                out.push_str("</table>\n");
            }
            if is_fact && !in_facts {
                out.push_str("<table style=\"border-collapse: collapse; margin: 0 0 1rem;\">\n");
            }
            in_facts = is_fact;
            match block {
                Block::Text(text) => {
                    let _ = writeln!(out, "<p>{}</p>", escape(text));
                }
                Block::Action { label, url } => {
                    let _ = writeln!(
                        out,
                        "<p><a href=\"{url}\" style=\"display: inline-block; background: #1d4ed8; \
                         color: #ffffff; padding: 0.6rem 1rem; border-radius: 0.4rem; \
                         text-decoration: none;\">{label}</a></p>\n<p style=\"font-size: 0.85rem; \
                         color: #4a4a4a;\">Or copy this address into your browser: {url_text}</p>",
                        url = escape(url),
                        label = escape(label),
                        url_text = escape(url),
                    );
                }
                Block::Code { label, value } => {
                    let _ = writeln!(
                        out,
                        "<p>{}:<br><code style=\"font-size: 1.1rem; background: #f1f1f1; \
                         padding: 0.3rem 0.5rem; border-radius: 0.3rem;\">{}</code></p>",
                        escape(label),
                        escape(value)
                    );
                    if is_inline_code(value) {
                        let _ = writeln!(
                            out,
                            "<p><img src=\"{QR_CID}{value}\" width=\"176\" height=\"176\" \
                             alt=\"QR code of {}\"></p>",
                            escape(label)
                        );
                    }
                }
                Block::Fact { label, value } => {
                    let _ = writeln!(
                        out,
                        "<tr><th style=\"text-align: left; padding: 0.2rem 1rem 0.2rem 0; \
                         font-weight: 600;\">{}</th><td>{}</td></tr>",
                        escape(label),
                        escape(value)
                    );
                }
            }
        }
        if in_facts {
            out.push_str("</table>\n");
        }
        let _ = writeln!(out, "<p>{}</p>\n</body></html>", escape(SIGNATURE));
        out
    }
}

/// How the HTML part names a code's QR image: `cid:qr.<code>`, the `Content-ID` of an image
/// carried inside the message (mail clients show those; most block images from the web).
const QR_CID: &str = "cid:qr.";

/// A code that can name its image: letters, digits and dashes (every ticket code), at most 100.
fn is_inline_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 100
        && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The codes whose QR images an HTML part shows, in order and each once: what the mailer
/// draws and attaches. Only an image's own `src="cid:qr.…"` counts; text in the message (a
/// title naming a `cid:`) is escaped, so its quotes can never make one.
pub fn inline_qr_codes(html: &str) -> Vec<String> {
    let mut codes: Vec<String> = Vec::new();
    let marker = format!("src=\"{QR_CID}");
    for rest in html.split(&marker).skip(1) {
        let Some((code, _)) = rest.split_once('"') else {
            continue;
        };
        if is_inline_code(code) && !codes.iter().any(|seen| seen == code) {
            codes.push(code.to_string());
        }
    }
    codes
}

/// Escapes text for HTML element content and double-quoted attribute values (the pages' own
/// escaping: `&`, `<`, `>` and both quotes).
fn escape(text: &str) -> String {
    crate::ui::escape_html_text(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Letter {
        Letter::new(
            "receipt",
            "buyer@example.com",
            "Your ticket for <b>Cup</b> final",
        )
        .text("Thanks for buying \"Cup final\" & more <script>alert(1)</script>.")
        .fact("Price", "$20.00")
        .fact("Order", "ord_1")
        .code("Ticket code", "TK-<x>")
        .action(
            "See your tickets",
            "https://t.example/tickets/mine?a=1&b=\"2\"",
        )
    }

    #[test]
    fn both_parts_say_the_same_things() {
        let letter = sample();
        let text = letter.plain_text();
        let html = letter.html();
        for piece in [
            "Price",
            "$20.00",
            "ord_1",
            "Ticket code",
            "See your tickets",
        ] {
            assert!(text.contains(piece), "text lacks {piece}: {text}");
            assert!(html.contains(piece), "html lacks {piece}: {html}");
        }
        assert!(text.contains("Price: $20.00\nOrder: ord_1\n"), "{text}");
        assert!(text.contains("See your tickets:\nhttps://t.example/tickets/mine?a=1&b=\"2\""));
        assert!(text.ends_with("— Ticketing\n"));
    }

    #[test]
    fn every_piece_of_text_is_escaped_in_the_html_part() {
        let html = sample().html();
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(!html.contains("TK-<x>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("&quot;Cup final&quot; &amp; more"));
        assert!(html.contains("href=\"https://t.example/tickets/mine?a=1&amp;b=&quot;2&quot;\""));
        assert_eq!(
            html.matches("<table").count(),
            1,
            "one table for adjacent facts"
        );
        assert_eq!(html.matches("</table>").count(), 1);
    }
}
