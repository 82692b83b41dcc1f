//! The other-listings page (`/tickets`) as visitors who are not signed in see it, rendered once
//! for each version of the listings it shows and then sent as it is, with a fresh script nonce
//! each time.
//!
//! A visitor without a session sees the same page as every other such visitor: the listings
//! (from the browse cache, at most a second old) and nothing about themselves. So the render is
//! kept with the browse cache's entry for those listings ([`browse::keep_rendering`]) and goes
//! when they change: a new read, any write, or a reservation of one of its own listings. The
//! one part of a render that must differ per response, the nonce its scripts carry (and its
//! content security policy names), is swapped for a new one in every copy sent.
//!
//! Anyone with a session cookie, and any address carrying a form's error (`__err`), is rendered
//! as before: their page may say who they are or what went wrong.

use crate::encoding::Encoding;
use app::domain::BrowseQuery;
use app::ssr::services::browse::{self, PageSeen};
use app::ssr::storage::tickets::BrowseFilter;
use app::ssr::{AppState, Ctx};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The name of the session cookie (see `startup::router`).
pub const SESSION_COOKIE: &str = "ticketing_session";

/// The `/tickets` page's address, if `req` may be answered with (or keep) the page as visitors
/// without a session see it: the browse filter it shows and the address in one spelling
/// ([`browse_address`]), which is what its render depends on and so what it is kept under.
///
/// This only says what may be *served* from a kept page. Whether a render may be *kept* is
/// decided by the session layer itself ([`SessionSeen`]): a request that looks signed out here
/// but that the session layer reads as signed in is rendered for its account and never kept.
pub fn cacheable(req: &Request) -> Option<(BrowseFilter, String)> {
    if req.method() != Method::GET || req.uri().path() != "/tickets" {
        return None;
    }
    if may_carry_session(req.headers()) {
        return None;
    }
    let address = browse_address(req.uri().query().unwrap_or_default())?;
    let filter = browse_filter_of(&address)?;
    Some((filter, address))
}

/// The parameters a browse page reads, in the order [`browse_address`] writes them. Any other
/// parameter changes nothing on the page and is left out of the address it is kept under.
const BROWSE_PARAMETERS: [&str; 4] = BrowseQuery::PARAMETERS;

/// A browse page's query string in one spelling: its parameters decoded as the router decodes
/// them, those the page does not read dropped, and the rest written in a fixed order. `None`
/// when it names a parameter twice (which one the page reads is not ours to guess) or carries a
/// form's error (`__err`, `__path`, `__sig`, in any spelling): such a page is rendered as asked.
pub fn browse_address(query: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    let mut found: [Option<String>; BROWSE_PARAMETERS.len()] = Default::default();
    for (key, value) in pairs {
        if key.starts_with("__") {
            return None;
        }
        if let Some(at) = BROWSE_PARAMETERS.iter().position(|name| *name == key) {
            if found[at].is_some() {
                return None;
            }
            found[at] = Some(value);
        }
    }
    let kept: Vec<(&str, &str)> = BROWSE_PARAMETERS
        .iter()
        .zip(&found)
        .filter_map(|(name, value)| Some((*name, value.as_deref()?)))
        .collect();
    serde_urlencoded::to_string(kept).ok()
}

/// The browse filter a query string (`q`, `category`, `sort`, `page`) asks for, the same for
/// the `/tickets` page and `GET /api/tickets`; `None` for one that would be refused.
pub(crate) fn browse_filter_of(query: &str) -> Option<BrowseFilter> {
    let query: BrowseQuery = serde_urlencoded::from_str(query).ok()?;
    let (filter, _) = browse::other_listings_filter(&query).ok()?;
    Some(filter)
}

/// Whether the session layer might find a session in these headers: a `Cookie` header that is
/// not clean printable ASCII (a reading that may differ from the session layer's), or one that
/// names the session cookie as the session layer parses cookies (percent-decoded, trimmed), in
/// any letter case.
fn may_carry_session(headers: &HeaderMap) -> bool {
    headers.get_all(header::COOKIE).iter().any(|value| {
        let bytes = value.as_bytes();
        if !bytes.iter().all(|b| (0x20..0x7f).contains(b)) {
            return true;
        }
        let text = std::str::from_utf8(bytes).unwrap_or_default();
        text.split(';').any(|piece| {
            match tower_sessions::cookie::Cookie::parse_encoded(piece.to_owned()) {
                Ok(cookie) => cookie.name().trim().eq_ignore_ascii_case(SESSION_COOKIE),
                // Not a cookie to the session layer either; but be safe about what it names.
                Err(_) => piece.to_ascii_lowercase().contains("session"),
            }
        })
    })
}

/// What the session layer concluded about a request, for the layers outside it: put among the
/// request's extensions before it goes in, filled in by `security::in_session` once the
/// request has been answered. A render is kept only when this says the session layer loaded no
/// session and left it empty; when nothing filled it in (the request never reached the session
/// layer's inside), it says nothing and nothing is kept.
#[derive(Clone, Default)]
pub struct SessionSeen(Arc<std::sync::OnceLock<bool>>);

impl SessionSeen {
    /// Records whether the request's session was empty once it had been answered.
    pub fn note(&self, empty: bool) {
        let _ = self.0.set(empty);
    }

    fn signed_out(&self) -> bool {
        self.0.get() == Some(&true)
    }
}

/// The cache-miss render: a [`cacheable`] request that [`hot`] could not answer is answered
/// from the kept render if one appeared meanwhile, or rendered and its render kept: rendered for
/// the address in its one spelling (so the render depends on nothing the address it is kept
/// under leaves out), and kept only when the session layer saw no session and the answer sets
/// no cookie. Other requests pass untouched.
pub async fn keep(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match cacheable(&req) {
        Some((filter, address)) => render_and_keep(&state, filter, address, req, next).await,
        None => next.run(req).await,
    }
}

async fn render_and_keep(
    state: &AppState,
    filter: BrowseFilter,
    address: String,
    mut req: Request,
    next: Next,
) -> Response {
    let ctx = Ctx::system(state);
    if let Some(kept) = browse::kept_rendering::<KeptPage>(&ctx, &filter, &address) {
        count(Outcome::Kept);
        return kept.response();
    }
    count(Outcome::Rendered);
    let target = if address.is_empty() {
        "/tickets".to_string()
    } else {
        format!("/tickets?{address}")
    };
    match target.parse() {
        Ok(uri) => *req.uri_mut() = uri,
        Err(_) => return next.run(req).await,
    }
    let seen = PageSeen::default();
    let session = SessionSeen::default();
    req.extensions_mut().insert(seen.clone());
    req.extensions_mut().insert(session.clone());
    let response = next.run(req).await;
    let Some((shown, version)) = seen.seen() else {
        return response;
    };
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if response.status() != StatusCode::OK
        || !is_html
        || !session.signed_out()
        || response.headers().contains_key(header::SET_COOKIE)
    {
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(err) => {
            return app::ssr::error_response::internal(anyhow::anyhow!(
                "the page's render failed midway: {err}"
            ))
            .into_response();
        }
    };
    if let Some(kept) = KeptPage::new(&parts.headers, &body) {
        // Counted twice: the gzipped pieces come on top.
        let bytes = 2 * body.len();
        browse::keep_rendering(&ctx, &shown, &address, version, Arc::new(kept), bytes);
    }
    Response::from_parts(parts, Body::from(body))
}

/// Counts how the `/tickets` page was answered for visitors without a session: from a kept copy, or
/// rendered (`ticketing_listings_page_total{outcome="kept"|"rendered"}`): how a bench or an operator
/// sees that the page stays kept under load.
fn count(outcome: Outcome) {
    static KEPT: std::sync::OnceLock<metrics::Counter> = std::sync::OnceLock::new();
    static RENDERED: std::sync::OnceLock<metrics::Counter> = std::sync::OnceLock::new();
    let (cell, label) = match outcome {
        Outcome::Kept => (&KEPT, "kept"),
        Outcome::Rendered => (&RENDERED, "rendered"),
    };
    cell.get_or_init(|| metrics::counter!("ticketing_listings_page_total", "outcome" => label))
        .increment(1);
}

#[derive(Clone, Copy)]
enum Outcome {
    Kept,
    Rendered,
}

/// A render split around its nonce.
pub(crate) struct KeptPage {
    /// The render's headers but its content security policy and length.
    headers: HeaderMap,
    /// The body's text between the places its nonce was.
    pieces: Vec<Bytes>,
    /// The same pieces gzip-compressed, made the first time a client asks for gzip.
    gzipped: std::sync::OnceLock<Vec<GzipPiece>>,
}

/// One piece of a kept page, compressed on its own: raw deflate blocks that refer to nothing
/// outside the piece and end on a byte boundary (a sync flush), so that pieces and the nonces
/// between them, sent as stored blocks, make one valid gzip stream.
struct GzipPiece {
    deflated: Vec<u8>,
    crc: flate2::Crc,
}

impl KeptPage {
    /// `None` when the render has no nonce in its policy (nothing to swap: not a page to keep).
    fn new(headers: &HeaderMap, body: &Bytes) -> Option<KeptPage> {
        let policy = headers
            .get(header::CONTENT_SECURITY_POLICY)?
            .to_str()
            .ok()?;
        let nonce = policy.split("'nonce-").nth(1)?.split('\'').next()?;
        if nonce.len() < 16 {
            return None;
        }
        let text = std::str::from_utf8(body).ok()?;
        let mut pieces = Vec::new();
        let mut at = 0;
        for (start, _) in text.match_indices(nonce) {
            pieces.push(body.slice(at..start));
            at = start + nonce.len();
        }
        pieces.push(body.slice(at..));
        let mut headers = headers.clone();
        for name in [
            header::CONTENT_SECURITY_POLICY,
            header::CONTENT_LENGTH,
            header::TRANSFER_ENCODING,
            header::DATE,
        ] {
            headers.remove(name);
        }
        Some(KeptPage {
            headers,
            pieces,
            gzipped: Default::default(),
        })
    }

    /// A copy with a nonce of its own, gzip-compressed without compressing the page again: the
    /// pieces were compressed once, and each nonce goes between them as a stored block.
    fn gzip_response(&self) -> Response {
        use std::io::Write as _;
        let pieces = self.gzipped.get_or_init(|| {
            self.pieces
                .iter()
                .map(|piece| {
                    let mut encoder = flate2::write::DeflateEncoder::new(
                        Vec::new(),
                        flate2::Compression::default(),
                    );
                    // Writing to a vector cannot fail; flushing ends on a byte boundary.
                    let _ = encoder.write_all(piece);
                    let _ = encoder.flush();
                    let mut crc = flate2::Crc::new();
                    crc.update(piece);
                    GzipPiece {
                        deflated: encoder.get_ref().clone(),
                        crc,
                    }
                })
                .collect()
        });
        let nonce = leptos::nonce::Nonce::new();
        let mut nonce_crc = flate2::Crc::new();
        nonce_crc.update(nonce.as_bytes());
        let stored_nonce = {
            let length = nonce.len() as u16;
            let mut block = vec![0u8];
            block.extend_from_slice(&length.to_le_bytes());
            block.extend_from_slice(&(!length).to_le_bytes());
            block.extend_from_slice(nonce.as_bytes());
            block
        };
        let mut body = Vec::with_capacity(
            pieces.iter().map(|p| p.deflated.len()).sum::<usize>()
                + stored_nonce.len() * pieces.len()
                + 32,
        );
        // The gzip header: deflate, no name, no time, unknown system.
        body.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
        let mut crc = flate2::Crc::new();
        for (n, piece) in pieces.iter().enumerate() {
            if n > 0 {
                body.extend_from_slice(&stored_nonce);
                crc.combine(&nonce_crc);
            }
            body.extend_from_slice(&piece.deflated);
            crc.combine(&piece.crc);
        }
        // The last block: stored, empty, final. Then the checksum and length of the page.
        body.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
        body.extend_from_slice(&crc.sum().to_le_bytes());
        body.extend_from_slice(&crc.amount().to_le_bytes());
        self.finish(Body::from(body), &nonce, Encoding::Gzip)
    }

    /// A copy with a nonce of its own.
    fn response(&self) -> Response {
        let nonce = leptos::nonce::Nonce::new();
        let length = self.pieces.iter().map(Bytes::len).sum::<usize>()
            + nonce.len() * (self.pieces.len() - 1);
        let mut body = Vec::with_capacity(length);
        for (n, piece) in self.pieces.iter().enumerate() {
            if n > 0 {
                body.extend_from_slice(nonce.as_bytes());
            }
            body.extend_from_slice(piece);
        }
        self.finish(Body::from(body), &nonce, Encoding::Identity)
    }

    fn finish(&self, body: Body, nonce: &str, encoding: Encoding) -> Response {
        let mut response = Response::new(body);
        let headers = response.headers_mut();
        headers.clone_from(&self.headers);
        let policy = app::ssr::page_security::content_security_policy(Some(nonce));
        if let Ok(policy) = HeaderValue::from_str(&policy) {
            headers.insert(header::CONTENT_SECURITY_POLICY, policy);
        }
        encoding.label(headers);
        response
    }

    /// A copy in `encoding`, if the page can be sent in it without compressing it again.
    fn respond(&self, encoding: Encoding) -> Option<Response> {
        match encoding {
            Encoding::Identity => Some(self.response()),
            Encoding::Gzip => Some(self.gzip_response()),
            Encoding::Brotli => None,
        }
    }
}

/// The hot path, ahead of the rest of the stack: the `/tickets` page for a visitor without a session
/// and `GET /api/tickets`, answered from what was kept of them while it is current, in the
/// encoding the client prefers among those kept. Everything else, and every miss, goes on as
/// usual (and a miss keeps what it renders for the next visitor).
pub async fn hot(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if req.method() == Method::GET {
        let served = match req.uri().path() {
            "/tickets" => cacheable(&req).and_then(|(filter, address)| {
                let ctx = Ctx::system(&state);
                let kept = browse::kept_rendering::<KeptPage>(&ctx, &filter, &address)?;
                // Kept pages go out as they are or gzipped (a nonce can go between gzip's
                // blocks, not brotli's); a client that takes brotli only gets the usual path.
                let encoding = match Encoding::chosen(req.headers(), &[Encoding::Gzip]) {
                    Encoding::Identity
                        if Encoding::chosen(req.headers(), &[Encoding::Brotli])
                            == Encoding::Brotli =>
                    {
                        return None;
                    }
                    encoding => encoding,
                };
                let response = kept.respond(encoding)?;
                count(Outcome::Kept);
                Some(response)
            }),
            "/api/tickets" => {
                let query = req.uri().query().unwrap_or_default();
                let ctx = Ctx::system(&state);
                crate::api::tickets::kept_browse(&ctx, query).map(|kept| {
                    kept.respond(Encoding::chosen(
                        req.headers(),
                        &[Encoding::Brotli, Encoding::Gzip],
                    ))
                })
            }
            _ => None,
        };
        if let Some(response) = served {
            return crate::security::headers(&state.settings, response);
        }
    }
    // Everything after this reads the one choice of encoding made here.
    crate::encoding::settle(req.headers_mut());
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(uri: &str, cookie: Option<&str>) -> Request {
        let mut builder = Request::builder().uri(uri);
        if let Some(cookie) = cookie {
            builder = builder.header(header::COOKIE, cookie);
        }
        builder.body(Body::empty()).unwrap()
    }

    #[test]
    fn only_the_listings_page_without_a_session_or_an_error_is_kept() {
        assert!(cacheable(&request("/tickets", None)).is_some());
        assert!(cacheable(&request("/tickets?q=jazz&sort=price&page=2", None)).is_some());
        assert!(cacheable(&request("/tickets", Some("theme=dark"))).is_some());
        assert!(
            cacheable(&request(
                "/tickets",
                Some("theme=dark; ticketing_session=abc")
            ))
            .is_none()
        );
        assert!(cacheable(&request("/tickets", Some("ticketing_session=abc"))).is_none());
        assert!(cacheable(&request("/tickets?__err=x&__path=y", None)).is_none());
        assert!(cacheable(&request("/tickets?%5F%5Ferr=x", None)).is_none());
        assert!(cacheable(&request("/tickets/mine", None)).is_none());
        // Queries the page would refuse are rendered (with their error), not kept.
        assert!(cacheable(&request("/tickets?sort=sideways", None)).is_none());
        // A parameter named twice: which one the page reads is not guessed.
        assert!(cacheable(&request("/tickets?q=a&q=b", None)).is_none());
        let mut post = request("/tickets", None);
        *post.method_mut() = Method::POST;
        assert!(cacheable(&post).is_none());
        // The search box repeats the search as typed: two spellings of it are two variants.
        let (a, first) = cacheable(&request("/tickets?q=jazz", None)).unwrap();
        let (b, second) = cacheable(&request("/tickets?q=jazz%21", None)).unwrap();
        assert_eq!(a, b);
        assert_ne!(first, second);
    }

    #[test]
    fn the_session_cookie_in_any_spelling_the_session_layer_reads_is_a_session() {
        for cookie in [
            "ticketing%5Fsession=abc",
            "ticketing_session =abc",
            " ticketing_session=abc",
            "TICKETING_SESSION=abc",
            "a=b;ticketing_session=abc",
            "a=b; ticketing%5fsession=abc",
        ] {
            assert!(
                cacheable(&request("/tickets", Some(cookie))).is_none(),
                "{cookie}"
            );
        }
        // Not clean ASCII: read differently by different parsers, so never served a kept page.
        let mut req = request("/tickets", None);
        req.headers_mut().insert(
            header::COOKIE,
            HeaderValue::from_bytes(b"theme=d\xc3\xa9j\xc3\xa0; other=1").unwrap(),
        );
        assert!(cacheable(&req).is_none());
        let mut req = request("/tickets", None);
        req.headers_mut()
            .insert(header::COOKIE, HeaderValue::from_bytes(b"a=\tb").unwrap());
        assert!(cacheable(&req).is_none());
    }

    #[test]
    fn a_browse_address_has_one_spelling_whatever_else_it_carries() {
        let spelled = |query: &str| {
            cacheable(&request(&format!("/tickets?{query}"), None))
                .unwrap()
                .1
        };
        assert_eq!(spelled(""), "");
        assert_eq!(spelled("x=1"), "");
        assert_eq!(spelled("utm_source=mail&x=2&y"), "");
        assert_eq!(
            spelled("page=2&zzz=9&q=jazz+club&sort=price"),
            "q=jazz+club&sort=price&page=2"
        );
        assert_eq!(spelled("%71=jazz"), "q=jazz", "an encoded name is the name");
        assert_eq!(spelled("q=jazz&x=1"), spelled("x=2&q=jazz"));
    }

    /// The nonce of the render the tests keep.
    const RENDERED_NONCE: &str = "OKKx-YGX7VlnMRK50ZLtSw";

    /// A render's headers: its policy names [`RENDERED_NONCE`].
    fn rendered_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&app::ssr::page_security::content_security_policy(Some(
                RENDERED_NONCE,
            )))
            .unwrap(),
        );
        headers
    }

    /// The nonce a copy's policy names.
    fn policy_nonce(response: &Response) -> String {
        let policy = response.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        let after = policy.split("'nonce-").nth(1).unwrap();
        after.split('\'').next().unwrap().to_string()
    }

    #[test]
    fn every_copy_carries_a_fresh_nonce_everywhere_the_render_had_one() {
        let nonce = RENDERED_NONCE;
        let mut headers = rendered_headers();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
        let body = Bytes::from(format!(
            "<script nonce=\"{nonce}\">a</script><p>x</p><script nonce=\"{nonce}\">b</script>"
        ));
        let kept = KeptPage::new(&headers, &body).unwrap();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..3 {
            let response = kept.response();
            let fresh = policy_nonce(&response);
            assert_ne!(fresh, nonce);
            assert!(
                seen.insert(fresh.to_string()),
                "each copy has its own nonce"
            );
            let (_, body) = response.into_parts();
            let body = futures::executor::block_on(axum::body::to_bytes(body, 1 << 20)).unwrap();
            let text = std::str::from_utf8(&body).unwrap();
            assert_eq!(
                text,
                format!(
                    "<script nonce=\"{fresh}\">a</script><p>x</p><script nonce=\"{fresh}\">b</script>"
                )
            );
            assert_eq!(response_type(&kept), "text/html");
        }
        // A render without a nonce in its policy is not kept.
        let mut plain = headers.clone();
        plain.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'"),
        );
        assert!(KeptPage::new(&plain, &body).is_none());
    }

    #[test]
    fn a_gzipped_copy_is_the_page_with_its_own_nonce() {
        use std::io::Read as _;
        let nonce = RENDERED_NONCE;
        let headers = rendered_headers();
        // Long and repetitive, so that deflate refers back within each piece, plus a piece
        // that is empty (two nonces in a row) and one at the very end.
        let row = "<li><article class=\"ticket-card\">Stadium seat</article></li>".repeat(200);
        let body = Bytes::from(format!(
            "<head><script nonce=\"{nonce}\">x</script></head><body>{row}{nonce}{nonce}{row}</body>{nonce}"
        ));
        let kept = KeptPage::new(&headers, &body).unwrap();
        for _ in 0..2 {
            let response = kept.respond(Encoding::Gzip).unwrap();
            assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
            let fresh = policy_nonce(&response);
            let (_, body) = response.into_parts();
            let zipped = futures::executor::block_on(axum::body::to_bytes(body, 1 << 20)).unwrap();
            assert!(zipped.len() < 2_000, "compressed: {} bytes", zipped.len());
            let mut text = String::new();
            flate2::read::GzDecoder::new(&zipped[..])
                .read_to_string(&mut text)
                .expect("a valid gzip stream, checksum and length included");
            assert_eq!(
                text,
                format!(
                    "<head><script nonce=\"{fresh}\">x</script></head><body>{row}{fresh}{fresh}{row}</body>{fresh}"
                )
            );
        }
    }

    fn response_type(kept: &KeptPage) -> String {
        kept.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_string()
    }
}
