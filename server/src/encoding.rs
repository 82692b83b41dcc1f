//! Content negotiation: the one place that reads `Accept-Encoding`. Whatever the server sends
//! compressed — the embedded assets (compressed at build time), kept pages and listings
//! (compressed once), and everything else (compressed by tower-http as it goes out) — goes in
//! the encoding [`Encoding::chosen`] picks: `page_cache::hot` puts that choice back into the
//! request's `Accept-Encoding` before anything else reads it.

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, header};

/// How a kept answer travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

impl Encoding {
    /// The best encoding `Accept-Encoding` allows among `offered` (in order of preference when
    /// the client likes several equally); identity when it allows none of them.
    pub fn chosen(headers: &HeaderMap, offered: &[Encoding]) -> Encoding {
        let mut best: Option<(Encoding, f32)> = None;
        for &encoding in offered {
            if let Some(quality) = encoding.quality(headers)
                && best.is_none_or(|(_, q)| quality > q)
            {
                best = Some((encoding, quality));
            }
        }
        best.map_or(Encoding::Identity, |(encoding, _)| encoding)
    }

    /// How much the client likes this encoding (`q`, 0 to 1), if at all: `None` when it is not
    /// named, or named with `q=0` (or a `q` that is not a number) anywhere.
    fn quality(self, headers: &HeaderMap) -> Option<f32> {
        let wanted = match self {
            Encoding::Identity => return Some(0.001),
            Encoding::Gzip => "gzip",
            Encoding::Brotli => "br",
        };
        let mut best: Option<f32> = None;
        for value in headers.get_all(header::ACCEPT_ENCODING) {
            let Ok(value) = value.to_str() else { continue };
            for item in value.split(',') {
                let mut parts = item.split(';');
                let name = parts.next().unwrap_or_default().trim();
                if !name.eq_ignore_ascii_case(wanted) {
                    continue;
                }
                let quality = parts
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())
                    .filter(|q| *q > 0.0)?;
                best = Some(best.map_or(quality, |b: f32| b.max(quality)));
            }
        }
        best
    }

    fn name(self) -> &'static str {
        match self {
            Encoding::Identity => "identity",
            Encoding::Gzip => "gzip",
            Encoding::Brotli => "br",
        }
    }

    /// Marks `headers` as an answer in this encoding (and as one that depends on the request's).
    pub fn label(self, headers: &mut HeaderMap) {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        headers.remove(header::CONTENT_LENGTH);
        let name = match self {
            Encoding::Identity => return,
            Encoding::Gzip => "gzip",
            Encoding::Brotli => "br",
        };
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(name));
    }
}

/// `bytes` gzip-compressed.
pub fn gzip(bytes: &[u8]) -> Bytes {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a vector cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default().into()
}

/// `bytes` brotli-compressed (quality 5: most of the gain for a small part of the time).
pub fn brotli(bytes: &[u8]) -> Bytes {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 5,
        lgwin: 20,
        ..Default::default()
    };
    // Reading from a slice into a vector cannot fail.
    let _ = brotli::BrotliCompress(&mut &bytes[..], &mut out, &params);
    out.into()
}

/// Rewrites `headers`' `Accept-Encoding` as [`Encoding::chosen`] reads it: brotli and gzip,
/// those the client allows, in the order it prefers them (or `identity` when it allows
/// neither). Every layer after this one, tower-http's compression included, then reads the one
/// choice: what the client refused (`br;q=0`) is simply not there.
pub fn settle(headers: &mut HeaderMap) {
    let mut allowed: Vec<(Encoding, f32)> = [Encoding::Brotli, Encoding::Gzip]
        .into_iter()
        .filter_map(|e| Some((e, e.quality(headers)?)))
        .collect();
    // Most liked first; a tie keeps the server's order (brotli before gzip).
    allowed.sort_by(|a, b| b.1.total_cmp(&a.1));
    let value = match allowed.as_slice() {
        [] => "identity".to_string(),
        [(only, _)] => only.name().to_string(),
        [(first, _), (second, _), ..] => format!("{}, {};q=0.5", first.name(), second.name()),
    };
    if let Ok(value) = HeaderValue::from_str(&value) {
        headers.insert(header::ACCEPT_ENCODING, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_encoding_is_the_clients_preference_among_those_offered() {
        let ask = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(value).unwrap(),
            );
            headers
        };
        let both = [Encoding::Brotli, Encoding::Gzip];
        assert_eq!(
            Encoding::chosen(&HeaderMap::new(), &both),
            Encoding::Identity
        );
        assert_eq!(
            Encoding::chosen(&ask("gzip, deflate, br"), &both),
            Encoding::Brotli
        );
        assert_eq!(Encoding::chosen(&ask("gzip"), &both), Encoding::Gzip);
        assert_eq!(
            Encoding::chosen(&ask("br;q=0.5, gzip"), &both),
            Encoding::Gzip
        );
        assert_eq!(
            Encoding::chosen(&ask("br;q=0, gzip;q=0"), &both),
            Encoding::Identity
        );
        assert_eq!(Encoding::chosen(&ask("BR"), &both), Encoding::Brotli);
        assert_eq!(
            Encoding::chosen(&ask("br"), &[Encoding::Gzip]),
            Encoding::Identity
        );
        assert_eq!(
            Encoding::chosen(&ask("deflate, identity"), &both),
            Encoding::Identity
        );
        assert_eq!(
            Encoding::chosen(&ask("gzip;q=abc"), &both),
            Encoding::Identity
        );
    }

    #[test]
    fn what_is_settled_is_what_every_layer_after_reads() {
        for (asked, settled) in [
            ("br;q=0, gzip", "gzip"),
            ("br;q=0", "identity"),
            ("gzip;q=0.5, br;q=0.9", "br, gzip;q=0.5"),
            ("gzip, deflate, br", "br, gzip;q=0.5"),
            ("gzip, br;q=0.8", "gzip, br;q=0.5"),
            ("br, br;q=0, gzip", "gzip"),
            ("", "identity"),
            ("*", "identity"),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(asked).unwrap(),
            );
            settle(&mut headers);
            assert_eq!(headers[header::ACCEPT_ENCODING], settled, "{asked}");
        }
    }
}
