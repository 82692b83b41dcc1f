//! Structured logs through `tracing`, filtered by `RUST_LOG`: lines for people, or with
//! `LOG_FORMAT=json` one JSON object per line for log collectors.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The log's subscriber for `filter` and `format` (`text` or `json`), writing to `writer`.
pub fn subscriber<W>(
    filter: &str,
    format: &str,
    writer: W,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true)
        .with_writer(writer);
    if format == "json" {
        Box::new(builder.json().flatten_event(true).finish())
    } else {
        Box::new(builder.finish())
    }
}

/// Installs the global subscriber once; later calls (tests spawning many apps) are no-ops.
pub fn init(filter: &str, format: &str) {
    use tracing_subscriber::util::SubscriberInitExt;
    let _ = subscriber(filter, format, std::io::stdout).try_init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'w self) -> Buffer {
            self.clone()
        }
    }

    #[test]
    fn json_logs_are_one_object_per_line_with_the_fields_and_the_message() {
        let buffer = Buffer::default();
        tracing::subscriber::with_default(subscriber("info", "json", buffer.clone()), || {
            tracing::info!(order = "0190", cents = 2055, "order paid");
            tracing::warn!(reason = "line one\nline \"two\"", "payout failed");
            tracing::debug!("filtered out");
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(lines[0]["level"], "INFO");
        assert_eq!(lines[0]["message"], "order paid");
        assert_eq!(lines[0]["order"], "0190");
        assert_eq!(lines[0]["cents"], 2055);
        assert!(lines[0]["timestamp"].is_string() && lines[0]["target"].is_string());
        assert_eq!(lines[1]["reason"], "line one\nline \"two\"");
    }

    #[test]
    fn text_logs_stay_lines_for_people() {
        let buffer = Buffer::default();
        tracing::subscriber::with_default(subscriber("info", "text", buffer.clone()), || {
            tracing::info!(order = "0190", "order paid");
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert!(
            text.contains("order paid") && text.contains("\"0190\""),
            "{text}"
        );
        assert_eq!(text.lines().count(), 1);
        assert!(serde_json::from_str::<serde_json::Value>(text.trim()).is_err());
    }
}
