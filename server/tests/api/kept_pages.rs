//! What the fast path keeps and hands out (the home page and `GET /api/tickets` as visitors
//! without a session see them): never one account's page, cookie or data to anyone else,
//! whatever the request that made it looked like; and the headers that tell caches on the way
//! what they may keep.

use crate::helpers::*;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Client, StatusCode};
use serde_json::json;

/// A client with no cookie jar: each request carries exactly the headers it is given.
fn bare() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A fresh session for a new account, as the raw value of its cookie, and the account's email.
async fn live_session(app: &TestApp) -> (String, String) {
    let email = unique_email();
    let response = app.sign_up(&bare(), &email, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let cookie = set_cookie(&response, SESSION_COOKIE).expect("a session cookie");
    let value = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches(&format!("{SESSION_COOKIE}="))
        .to_string();
    (value, email)
}

/// Everything a response says: its headers (as text) and its body.
async fn read(response: reqwest::Response) -> (StatusCode, HeaderMap, String) {
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

/// A request that carries the session cookie in a spelling of its own (the cache's old reading
/// of the header missed each of these; the session layer reads them all) is answered for that
/// account — and what it made is never handed to a visitor without a session: not the page,
/// not the email, not the cookie. Tried with a fresh session, and with one that slides during
/// the request (so its answer sets a cookie), on every address the fast path serves.
#[tokio::test]
async fn no_spelling_of_the_session_cookie_gets_an_account_page_kept_for_others() {
    let app = spawn_app().await;
    let (seller, _) = app.signed_in_user().await;
    app.create_ticket(&seller, &json!({ "title": "Leakcheck seat", "price": 30 }))
        .await;
    let spellings: [fn(&str) -> Vec<u8>; 4] = [
        |s| format!("ticketing%5Fsession={s}").into_bytes(),
        |s| format!("ticketing_session ={s}").into_bytes(),
        |s| {
            [
                &b"theme=d\xc3\xa9j\xc3\xa0; ticketing_session="[..],
                s.as_bytes(),
            ]
            .concat()
        },
        |s| format!("a=1;ticketing_session={s}").into_bytes(),
    ];
    for (n, spelling) in spellings.iter().enumerate() {
        for slides in [false, true] {
            let (session, email) = live_session(&app).await;
            if slides {
                // Activity is written at most hourly: two hours on, this request slides it.
                app.clock.advance(2 * 60 * 60 * 1000);
            }
            let cookie = HeaderValue::from_bytes(&spelling(&session)).unwrap();
            for path in [
                format!("/tickets?q=leakcheck&made-up={n}{slides}"),
                format!("/api/tickets?q=leakcheck&made-up={n}{slides}"),
            ] {
                let (status, headers, body) = read(
                    bare()
                        .get(app.url(&path))
                        .header("cookie", cookie.clone())
                        .send()
                        .await
                        .unwrap(),
                )
                .await;
                assert_eq!(status, StatusCode::OK, "{path}");
                if path.starts_with("/tickets?") {
                    // The premise: the session layer read this spelling as the account's.
                    assert!(body.contains(&email), "spelling {n}: {path} signed in");
                    assert_eq!(headers["cache-control"], "private, no-store");
                    assert_eq!(
                        headers.get("set-cookie").is_some(),
                        slides,
                        "spelling {n}: the session slid"
                    );
                }

                // Then visitors without a session ask for the same address, twice (the second
                // from whatever the first left kept).
                for visit in 0..2 {
                    let (status, headers, body) =
                        read(bare().get(app.url(&path)).send().await.unwrap()).await;
                    assert_eq!(status, StatusCode::OK);
                    assert!(
                        !body.contains(&email),
                        "spelling {n}, slid {slides}, visit {visit}: {path} shows the account"
                    );
                    assert!(
                        headers.get("set-cookie").is_none(),
                        "spelling {n}, slid {slides}, visit {visit}: {path} sets a cookie"
                    );
                    assert!(body.contains("Leakcheck seat"), "{path}");
                    if path.starts_with("/tickets?") {
                        assert!(body.contains("Sign up to sell"), "{path}: signed out");
                        assert!(!body.contains("current-user"), "{path}: no account");
                    }
                }
            }
        }
    }
}

/// What each page says to caches: every page and JSON answer varies by cookie, kept copies
/// included; an answer given with a session may be kept by no cache; and a site served over
/// https tells browsers to come back over https only.
#[tokio::test]
async fn pages_say_which_caches_may_keep_them() {
    let app = spawn_app().await;
    let varies_by_cookie = |headers: &HeaderMap| {
        headers
            .get_all("vary")
            .iter()
            .flat_map(|v| v.to_str().unwrap().split(','))
            .any(|name| name.trim().eq_ignore_ascii_case("cookie"))
    };
    // Signed out: the page (rendered, then kept) and the listings vary by cookie, and may be
    // kept by a browser.
    for path in [
        "/tickets",
        "/tickets",
        "/api/tickets",
        "/api/tickets",
        "/auth/signin",
    ] {
        let (_, headers, _) = read(bare().get(app.url(path)).send().await.unwrap()).await;
        assert!(varies_by_cookie(&headers), "{path}: {headers:?}");
        assert!(
            headers.get("cache-control").is_none(),
            "{path}: {headers:?}"
        );
        assert!(headers.get("strict-transport-security").is_none());
    }
    // Signed in: nobody keeps it.
    let (user, _) = app.signed_in_user().await;
    for path in [
        "/tickets",
        "/tickets/mine",
        "/api/users/currentuser",
        "/orders",
    ] {
        let (status, headers, _) = read(user.get(app.url(path)).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(headers["cache-control"], "private, no-store", "{path}");
        assert!(varies_by_cookie(&headers), "{path}: {headers:?}");
    }
    // Signing in and out set cookies: neither answer may be kept either.
    let email = unique_email();
    let signing_up = app.sign_up(&bare(), &email, PASSWORD).await;
    assert_eq!(signing_up.headers()["cache-control"], "private, no-store");
    let signing_out = user
        .post(app.url("/api/users/signout"))
        .send()
        .await
        .unwrap();
    assert!(signing_out.headers().get("set-cookie").is_some());
    assert_eq!(signing_out.headers()["cache-control"], "private, no-store");

    // Over https, every answer (kept ones too) says so.
    let secure = spawn_app_with(|config| {
        config.public_url = Some("https://tickets.example.org".to_string());
    })
    .await;
    for path in [
        "/tickets",
        "/tickets",
        "/api/tickets",
        "/healthz",
        "/no/such/page",
    ] {
        let (_, headers, _) = read(bare().get(secure.url(path)).send().await.unwrap()).await;
        assert_eq!(
            headers["strict-transport-security"], "max-age=31536000",
            "{path}"
        );
    }
}

/// Session bookkeeping (a session sliding with its activity) shows on no page: it leaves the
/// cached listings and the pages kept with them alone.
#[tokio::test]
async fn a_session_sliding_leaves_the_cached_pages_alone() {
    let app = spawn_app().await;
    let (user, _) = app.signed_in_user().await;
    // Activity is written at most hourly: two hours on, the next request slides the session.
    app.clock.advance(2 * 60 * 60 * 1000);
    let before = app.state.db.write_generation();
    let response = user.get(app.url("/tickets")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers().get("set-cookie").is_some(),
        "the session slid"
    );
    assert_eq!(
        app.state.db.write_generation(),
        before,
        "no write that empties the browse cache"
    );
}

/// A browse read whose caller stops being polled midway (as a render that lost its wake-up
/// does) still finishes and gives up its turn: the next visitor of the same page is answered,
/// instead of every later one waiting behind it for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browse_read_left_unpolled_does_not_hold_the_page_for_everyone() {
    use app::domain::BrowseQuery;
    use app::ssr::services::browse::{browse_filter, browse_filtered};
    let app = spawn_app().await;
    let (seller, _) = app.signed_in_user().await;
    app.create_ticket(&seller, &json!({ "title": "Unpolled seat", "price": 30 }))
        .await;
    let ctx = app::ssr::Ctx::system(&app.state);
    let (filter, page) = browse_filter(&BrowseQuery::default()).unwrap();
    // Polled once, then kept but never polled again. (Once in a while the read is done at its
    // first poll: then nothing is held, and the next read must be answered all the same.)
    let mut abandoned = Box::pin(browse_filtered(&ctx, filter.clone(), page));
    let _first = futures::poll!(abandoned.as_mut());
    let next = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        browse_filtered(&ctx, filter, page),
    )
    .await
    .expect("the next read of the page is answered")
    .unwrap();
    assert_eq!(next.tickets.len(), 1);
    let response = bare().get(app.url("/api/tickets")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    drop(abandoned);
}
