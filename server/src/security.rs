//! Request-level protections for every route: refusing cross-site state changes (CSRF), signed
//! error links for forms posted without JavaScript, session activity, and the security headers
//! that pages carry. Each is one layer of the list in `startup::layers`.

use app::AppError;
use app::ssr::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The checks and finishing touches every request gets, outside the sessions: a cross-site state
/// change is refused and an unsigned error link is dropped from a page's address; then, whatever
/// answered, an answer that sets a cookie is marked private, a plain refusal is put in the error
/// envelope, and the security headers are added.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut response = check(&state, req, next).await;
    // An answer that sets a cookie is one visitor's: no cache on the way may keep it.
    if response.headers().contains_key(header::SET_COOKIE) {
        private(&mut response);
    }
    headers(&state.settings, envelope_errors(response))
}

/// Marks an answer as one visitor's own: no shared cache may keep it, and no cache at all
/// (a signed-in page names its account).
fn private(response: &mut Response) {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
}

async fn check(state: &AppState, req: Request, next: Next) -> Response {
    if refused_as_cross_site(state, &req) {
        return AppError::CrossSite.into_response();
    }
    if let Some(redirect) = drop_unsigned_error_link(state, &req) {
        return redirect;
    }
    next.run(req).await
}

/// The checks that need the session, inside the sessions: activity is noted on the session.
/// Once answered, an answer given with a session is marked private, and the layers outside are
/// told whether there was one ([`crate::page_cache::SessionSeen`]).
pub async fn in_session(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    req: Request,
    next: Next,
) -> Response {
    let asset = is_asset(req.uri().path());
    let seen = req
        .extensions()
        .get::<crate::page_cache::SessionSeen>()
        .cloned();
    let mut response = match session_activity(&state, &session, asset).await {
        Err(err) => err.into_response(),
        Ok(()) => next.run(req).await,
    };
    if !asset || seen.is_some() {
        let empty = session.is_empty().await;
        if let Some(seen) = seen {
            seen.note(empty);
        }
        if !empty && !asset {
            private(&mut response);
        }
    }
    response
}

/// Whether `path` is a static asset (the front end's files, the favicon) or the health check:
/// requests that leave the session alone.
fn is_asset(path: &str) -> bool {
    path.starts_with("/pkg/")
        || path == "/healthz"
        || path
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains('.'))
}

/// Whether this is a state-changing request that a browser sent on behalf of another site.
/// Browsers label every request with `Sec-Fetch-Site`; older ones are judged by `Origin` (or
/// `Referer`) against our public origin and the `Host` they addressed. Requests carrying none
/// of these are not from a browser, so no ambient cookie can be abused, and pass.
fn refused_as_cross_site(state: &AppState, req: &Request) -> bool {
    let safe = matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    if !safe && is_cross_site(req.headers(), state.settings.public_origin()) {
        tracing::warn!(method = %req.method(), path = %req.uri().path(), "refused a cross-site request");
        return true;
    }
    false
}

fn is_cross_site(headers: &HeaderMap, public_origin: &str) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site")) {
        return !matches!(site, "same-origin" | "none");
    }
    let host = text(header::HOST);
    let public_scheme = public_origin.split_once("://").map(|(scheme, _)| scheme);
    // Same origin means the same scheme, host and port: our public origin, or the scheme we
    // serve with and the `Host` the browser addressed.
    let same = |origin: &str| {
        origin.eq_ignore_ascii_case(public_origin)
            || host.is_some_and(|host| {
                origin.split_once("://").is_some_and(|(scheme, rest)| {
                    public_scheme.is_some_and(|s| s.eq_ignore_ascii_case(scheme))
                        && rest.eq_ignore_ascii_case(host)
                })
            })
    };
    if let Some(origin) = text(header::ORIGIN) {
        return !same(origin);
    }
    if let Some(referer) = text(header::REFERER) {
        let origin_part = referer.split_once("://").map(|(scheme, rest)| {
            let authority = rest.split('/').next().unwrap_or_default();
            format!("{scheme}://{authority}")
        });
        return !origin_part.is_some_and(|o| same(&o));
    }
    false
}

/// Security headers on every response; the content security policy on HTML pages. A rendered
/// page already carries a policy naming its own script nonce; any other HTML gets one that runs
/// no inline script at all. Pages and JSON say that they differ by cookie (what a page shows
/// depends on who asks), and a site served over https tells browsers to use nothing else.
pub fn headers(settings: &app::ssr::Settings, mut response: Response) -> Response {
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let is_html = content_type.starts_with("text/html");
    let is_json = content_type.starts_with("application/json");
    let headers = response.headers_mut();
    if (is_html || is_json) && !varies_by_cookie(headers) {
        headers.append(header::VARY, HeaderValue::from_static("cookie"));
    }
    if settings.secure_cookies() {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if is_html && !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        let policy = app::ssr::page_security::content_security_policy(None);
        if let Ok(value) = HeaderValue::from_str(&policy) {
            headers.insert(header::CONTENT_SECURITY_POLICY, value);
        }
    }
    response
}

/// Whether a `Vary` header already names `Cookie` (or everything).
fn varies_by_cookie(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|name| name.trim().eq_ignore_ascii_case("cookie") || name.trim() == "*")
}

/// Sessions slide: a signed-in session seen again has its idle expiry moved on (written at most
/// hourly), and ends 90 days after sign-in however active. Assets leave the session alone.
async fn session_activity(
    state: &AppState,
    session: &tower_sessions::Session,
    asset: bool,
) -> Result<(), AppError> {
    if asset {
        return Ok(());
    }
    let now = state.clock.now().millis();
    app::ssr::session::note_activity(session, now).await
}

/// Largest body a page's form may post to a server function.
pub const FORM_BODY_LIMIT: usize = 64 * 1024;

/// Server functions (`/_fn/…`): their bodies are limited like every other route's (413 in the
/// envelope), a refused plain form post goes back to its page with `303 See Other` whatever the
/// error's status, and the error it carries in the address is signed so the page can trust it.
/// Other requests pass untouched.
pub async fn form_posts(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/_fn/") {
        return next.run(req).await;
    }
    let state = &state;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > FORM_BODY_LIMIT as u64) {
        return AppError::PayloadTooLarge.into_response();
    }
    // A plain HTML form post (no JavaScript) is answered with a redirect back to a page; a
    // call from the hydrated app gets its answer (and any redirect as a header it follows).
    let plain_form_post = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, FORM_BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(err) => {
            let too_large = std::error::Error::source(&err)
                .is_some_and(|cause| cause.is::<http_body_util::LengthLimitError>());
            return if too_large {
                AppError::PayloadTooLarge.into_response()
            } else if timed_out(&err) {
                AppError::TimedOut.into_response()
            } else {
                AppError::invalid("The request body could not be read").into_response()
            };
        }
    };
    let mut response = next
        .run(Request::from_parts(parts, axum::body::Body::from(body)))
        .await;
    let Some(location) = response.headers().get(header::LOCATION).cloned() else {
        return response;
    };
    if !plain_form_post {
        return response;
    }
    *response.status_mut() = axum::http::StatusCode::SEE_OTHER;
    if let Some(signed) = location
        .to_str()
        .ok()
        .and_then(|location| sign_error_link(state, location))
        .and_then(|signed| HeaderValue::from_str(&signed).ok())
    {
        response.headers_mut().insert(header::LOCATION, signed);
    }
    response
}

fn now_secs(state: &AppState) -> i64 {
    state.clock.now().millis() / 1000
}

/// The keys of a form's error link: the server function's path, its error, and our signature.
const ERROR_LINK_KEYS: [&str; 3] = ["__path", "__err", "__sig"];

/// A query string's error link, read as the router reads it (names and values decoded).
#[derive(Debug, PartialEq)]
enum ErrorLink {
    /// None of its keys is there.
    Absent,
    /// `__path` and `__err` (and `__sig`, if given), each named once and spelled plainly.
    Parts {
        path: String,
        err: String,
        sig: Option<String>,
    },
    /// Anything else that names one of its keys: one of them twice, one spelled with escapes
    /// (`%5F%5Ferr`), or one without the others. Never trusted.
    Malformed,
}

fn error_link(query: &str) -> ErrorLink {
    let Ok(pairs) = serde_urlencoded::from_str::<Vec<(String, String)>>(query) else {
        // Not a query the router can read either; if it names a key, it is not ours.
        return if ERROR_LINK_KEYS.iter().any(|key| query.contains(&key[2..])) {
            ErrorLink::Malformed
        } else {
            ErrorLink::Absent
        };
    };
    let mut found: [Option<String>; 3] = Default::default();
    let mut named = false;
    for (key, value) in pairs {
        let Some(at) = ERROR_LINK_KEYS.iter().position(|k| *k == key) else {
            continue;
        };
        named = true;
        if found[at].replace(value).is_some() {
            return ErrorLink::Malformed;
        }
    }
    if !named {
        return ErrorLink::Absent;
    }
    // Each key as the server writes it, plainly: an escaped spelling is someone else's link.
    let plain = ERROR_LINK_KEYS.iter().zip(&found).all(|(key, value)| {
        value.is_none()
            || query
                .split('&')
                .any(|pair| pair.split('=').next() == Some(*key))
    });
    let [path, err, sig] = found;
    match (plain, path, err) {
        (true, Some(path), Some(err)) => ErrorLink::Parts { path, err, sig },
        _ => ErrorLink::Malformed,
    }
}

/// Adds `__sig` to a redirect that carries a server function's error.
fn sign_error_link(state: &AppState, location: &str) -> Option<String> {
    let (_, query) = location.split_once('?')?;
    let ErrorLink::Parts { path, err, .. } = error_link(query) else {
        return None;
    };
    let sig = state.error_link_key.sign(&path, &err, now_secs(state));
    Some(format!("{location}&__sig={sig}"))
}

/// A page address carrying an error (`?__err=…`) that this server did not sign, or whose
/// signature ran out, is sent to the same page without it: nobody can make our alert boxes say
/// what they like. The address is read as the page reads it, so an escaped spelling of a key or
/// a key given twice (a second `__err` after a signed one) is refused like a forged signature.
fn drop_unsigned_error_link(state: &AppState, req: &Request) -> Option<Response> {
    let query = req
        .uri()
        .query()
        .filter(|q| q.contains("__") || q.contains('%'))?;
    let trusted = match error_link(query) {
        ErrorLink::Absent => return None,
        ErrorLink::Parts { path, err, sig } => sig.is_some_and(|sig| {
            state
                .error_link_key
                .verify(&path, &err, &sig, now_secs(state))
        }),
        ErrorLink::Malformed => false,
    };
    if trusted {
        return None;
    }
    let kept: Vec<(String, String)> = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| !ERROR_LINK_KEYS.contains(&k.as_str()))
        .collect();
    let query = serde_urlencoded::to_string(&kept).unwrap_or_default();
    let mut target = req.uri().path().to_string();
    if !query.is_empty() {
        target.push('?');
        target.push_str(&query);
    }
    Some(axum::response::Redirect::to(&target).into_response())
}

/// Whatever refused a request (an extractor, a layer, a timeout), the answer is the error
/// envelope: a plain-text error body is replaced by the envelope for its status. Pages (HTML)
/// and JSON bodies are left as they are.
fn envelope_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("application/json") || content_type.starts_with("text/html") {
        return response;
    }
    let error = match status.as_u16() {
        401 => AppError::Unauthenticated,
        403 => AppError::Forbidden,
        404 => AppError::NotFound,
        405 => AppError::MethodNotAllowed,
        408 => AppError::TimedOut,
        413 => AppError::PayloadTooLarge,
        415 => AppError::UnsupportedMediaType("Unsupported content type".to_string()),
        429 => AppError::TooManyRequests,
        503 => AppError::Unavailable,
        code if code >= 500 => AppError::internal_unexplained(),
        _ => AppError::invalid("The request could not be read"),
    };
    let mut envelope = error.into_response();
    *envelope.status_mut() = status;
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            envelope.headers_mut().insert(name.clone(), value.clone());
        }
    }
    envelope
}

/// Whether reading a body failed because it did not arrive in time (see `serve`).
pub fn timed_out(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(err);
    while let Some(err) = cause {
        if err.is::<crate::serve::BodyTooSlow>() {
            return true;
        }
        cause = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_link_is_read_as_the_page_reads_it() {
        let parts = |path: &str, err: &str, sig: Option<&str>| ErrorLink::Parts {
            path: path.to_string(),
            err: err.to_string(),
            sig: sig.map(str::to_string),
        };
        assert_eq!(error_link("q=jazz&page=2"), ErrorLink::Absent);
        assert_eq!(error_link("q=%5Fx"), ErrorLink::Absent);
        assert_eq!(
            error_link("__path=%2F_fn%2Fx&__err=abc&__sig=1.ff"),
            parts("/_fn/x", "abc", Some("1.ff"))
        );
        assert_eq!(error_link("__path=p&__err=e"), parts("p", "e", None));
        for forged in [
            // Escaped spellings of a key: the page decodes them, so they are keys too.
            "%5F%5Ferr=evil",
            "__path=p&%5F%5Ferr=evil",
            "__path=p&__%65rr=evil&__sig=1.ff",
            // A key given twice: a signed link with another message appended.
            "__path=p&__err=e&__sig=1.ff&__err=evil",
            "__path=p&__path=q&__err=e&__sig=1.ff",
            "__path=p&__err=e&__sig=1.ff&__sig=2.ff",
            // Half a link.
            "__err=evil",
            "__sig=1.ff",
        ] {
            assert_eq!(error_link(forged), ErrorLink::Malformed, "{forged}");
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn judges_origins_like_a_browser_would() {
        let us = "https://tickets.example.org";
        let cases = [
            (headers(&[("sec-fetch-site", "same-origin")]), false),
            (
                headers(&[
                    ("sec-fetch-site", "cross-site"),
                    ("origin", "https://tickets.example.org"),
                ]),
                true,
            ),
            (headers(&[("sec-fetch-site", "same-site")]), true),
            (headers(&[("origin", "https://tickets.example.org")]), false),
            (headers(&[("origin", "https://evil.example")]), true),
            (headers(&[("origin", "null")]), true),
            (
                headers(&[
                    ("origin", "https://localhost:3000"),
                    ("host", "localhost:3000"),
                ]),
                false,
            ),
            (
                headers(&[("referer", "https://tickets.example.org/auth/signin")]),
                false,
            ),
            (headers(&[("referer", "https://evil.example/form")]), true),
            // Same host and port, other scheme: another origin.
            (
                headers(&[
                    ("origin", "http://tickets.example.org"),
                    ("host", "tickets.example.org"),
                ]),
                true,
            ),
            (
                headers(&[
                    ("origin", "https://tickets.example.org"),
                    ("host", "tickets.example.org"),
                ]),
                false,
            ),
            (
                headers(&[
                    ("referer", "http://tickets.example.org/auth/signin"),
                    ("host", "tickets.example.org"),
                ]),
                true,
            ),
            (headers(&[]), false),
        ];
        for (map, expected) in cases {
            assert_eq!(is_cross_site(&map, us), expected, "{map:?}");
        }
    }
}
