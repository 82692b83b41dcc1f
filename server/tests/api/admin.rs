//! The operator's console through its API (docs/RULES.md, "Running the marketplace"): every
//! admin route refuses anyone but an admin, and each action does what it says, emails whoever
//! it affects, and leaves one entry in the append-only audit log.

use crate::helpers::*;
use app::domain::role::Role;
use app::ssr::Ctx;
use app::ssr::services::payouts;
use app::ssr::services::roles;
use futures::future::join_all;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const HOSTILE_REASON: &str = "<script>alert(1)</script>\u{0}\u{202e} fraud\r\nreport";
const REASON_AS_KEPT: &str = "<script>alert(1)</script>   fraud  report";

async fn send(
    app: &TestApp,
    client: &Client,
    method: Method,
    path: &str,
    body: &Value,
) -> reqwest::Response {
    client
        .request(method, app.url(path))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn audit(app: &TestApp, admin: &Client) -> Vec<Value> {
    let response = app.get(admin, "/api/admin/audit?limit=1000").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["entries"].as_array().unwrap().clone()
}

async fn user_id(app: &TestApp, client: &Client) -> String {
    app.current_user(client).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn browse_ids(app: &TestApp) -> Vec<String> {
    let page: Value = app.get_json(&client(), "/api/tickets").await;
    page.as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn every_admin_route_refuses_the_signed_out_everyone_but_admins_and_other_sites() {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let (seller, _) = app.signed_in_user().await;
    let ticket = app
        .create_ticket(&seller, &json!({ "title": "Cup final", "price": 20 }))
        .await;
    let seller_id = user_id(&app, &seller).await;
    let (buyer, _) = app.signed_in_user().await;
    let order = app.buy(&buyer, ticket["id"].as_str().unwrap()).await;
    let reason = json!({ "reason": "Fraud report" });
    let routes = [
        (
            Method::POST,
            format!("/api/admin/orders/{}/refund", order["id"].as_str().unwrap()),
            reason.clone(),
        ),
        (
            Method::POST,
            format!(
                "/api/admin/tickets/{}/takedown",
                ticket["id"].as_str().unwrap()
            ),
            reason.clone(),
        ),
        (
            Method::POST,
            format!("/api/admin/users/{seller_id}/suspend"),
            reason.clone(),
        ),
        (
            Method::DELETE,
            format!("/api/admin/users/{seller_id}/suspend"),
            json!({}),
        ),
        (
            Method::POST,
            format!("/api/admin/users/{seller_id}/payouts/hold"),
            reason.clone(),
        ),
        (
            Method::DELETE,
            format!("/api/admin/users/{seller_id}/payouts/hold"),
            reason.clone(),
        ),
        (Method::GET, "/api/admin/audit".to_string(), json!({})),
    ];
    for (method, path, body) in &routes {
        // Signed out: 401, whatever the body (even one that is not JSON).
        let signed_out = send(&app, &client(), method.clone(), path, body).await;
        assert_errors(
            signed_out,
            StatusCode::UNAUTHORIZED,
            json!([{ "message": "Not authorized" }]),
        )
        .await;
        let garbage = client()
            .request(method.clone(), app.url(path))
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_eq!(
            garbage.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
        // A buyer or seller: 403, also staff.
        for who in [&seller, &buyer] {
            let refused = send(&app, who, method.clone(), path, body).await;
            assert_errors(
                refused,
                StatusCode::FORBIDDEN,
                json!([{ "message": "Forbidden" }]),
            )
            .await;
        }
        // Another site, even with an admin's cookie: 403, and nothing happens.
        if *method != Method::GET {
            let cross_site = admin
                .request(method.clone(), app.url(path))
                .header("origin", "https://evil.example")
                .json(body)
                .send()
                .await
                .unwrap();
            assert_eq!(
                cross_site.status(),
                StatusCode::FORBIDDEN,
                "{method} {path}"
            );
        }
    }
    let staff = {
        let (client, email) = app.signed_in_user().await;
        app.grant(&email, Role::Staff).await;
        client
    };
    let refused = app.get(&staff, "/api/admin/audit").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    // Nothing was done by any of it: the only entries are the command line's role grants.
    let entries = audit(&app, &admin).await;
    assert!(
        entries.iter().all(|e| e["action"] == "role.grant"),
        "{entries:#?}"
    );
    assert_eq!(
        app.get(
            &client(),
            &format!("/api/tickets/{}", ticket["id"].as_str().unwrap())
        )
        .await
        .json::<Value>()
        .await
        .unwrap()["status"],
        "sold"
    );

    // The console's pages: 403 for the signed out and non-admins, 200 for an admin.
    for path in [
        "/admin",
        "/admin/listings",
        "/admin/users",
        "/admin/orders",
        "/admin/payouts",
        "/admin/audit",
    ] {
        for who in [client(), seller.clone(), staff.clone()] {
            let page = app.get(&who, path).await;
            assert_eq!(page.status(), StatusCode::FORBIDDEN, "{path}");
            let html = page.text().await.unwrap();
            assert!(
                html.contains("for the marketplace's admins"),
                "{path}: {html}"
            );
        }
        let page = app.get(&admin, path).await;
        assert_eq!(page.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn a_take_down_ends_the_hold_tells_seller_and_buyer_and_is_audited() {
    let app = spawn_app().await;
    let (admin, admin_id) = app.admin().await;
    let (seller, seller_email) = app.signed_in_user().await;
    let ticket = app
        .create_ticket(
            &seller,
            &json!({ "title": "Fake <b>final</b>", "price": 20 }),
        )
        .await;
    let id = ticket["id"].as_str().unwrap();
    let (buyer, buyer_email) = app.signed_in_user().await;
    let reserved = app
        .post_json(&buyer, "/api/orders", &json!({ "ticketId": id }))
        .await;
    assert_eq!(reserved.status(), StatusCode::CREATED);
    let order: Value = reserved.json().await.unwrap();

    // Reasons are required, text, and at most 500 characters.
    let path = format!("/api/admin/tickets/{id}/takedown");
    for (body, message) in [
        (json!({}), "Reason is required"),
        (json!({ "reason": " \u{7}\n" }), "Reason is required"),
        (json!({ "reason": 7 }), "Reason must be text"),
        (
            json!({ "reason": "x".repeat(501) }),
            "Reason must be at most 500 characters",
        ),
    ] {
        let refused = app.post_json(&admin, &path, &body).await;
        assert_errors(
            refused,
            StatusCode::BAD_REQUEST,
            json!([{ "field": "reason", "message": message }]),
        )
        .await;
    }
    let huge = app
        .post_json(&admin, &path, &json!({ "reason": "x".repeat(100_000) }))
        .await;
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let removed = app
        .post_json(&admin, &path, &json!({ "reason": HOSTILE_REASON }))
        .await;
    assert_eq!(removed.status(), StatusCode::OK);
    let removed: Value = removed.json().await.unwrap();
    assert_eq!(removed["status"], "removed");
    assert_eq!(removed["orderId"], Value::Null);

    // The buyer's hold is over, the listing is off the browse page and off sale for good.
    let order_now: Value = app
        .get_json(
            &buyer,
            &format!("/api/orders/{}", order["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(order_now["status"], "cancelled");
    assert!(!browse_ids(&app).await.contains(&id.to_string()));
    let (other, _) = app.signed_in_user().await;
    let refused = app
        .post_json(&other, "/api/orders", &json!({ "ticketId": id }))
        .await;
    assert_errors(
        refused,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "This listing is no longer on sale" }]),
    )
    .await;
    let edit = seller
        .put(app.url(&format!("/api/tickets/{id}")))
        .json(&json!({ "title": "Relisted", "price": 20, "version": removed["version"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(edit.status(), StatusCode::BAD_REQUEST);
    let again = app
        .post_json(&admin, &path, &json!({ "reason": "again" }))
        .await;
    assert_errors(
        again,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Listing is already taken down" }]),
    )
    .await;
    assert_eq!(app.events_for(id).await.last().unwrap(), "TicketRemoved");

    // One audit entry, with the reason as kept.
    let entries = audit(&app, &admin).await;
    let entry = entries
        .iter()
        .find(|e| e["action"] == "ticket.takedown")
        .unwrap();
    assert_eq!(entry["actorId"], json!(admin_id));
    assert_eq!(entry["targetType"], "ticket");
    assert_eq!(entry["targetId"], json!(id));
    assert_eq!(entry["reason"], REASON_AS_KEPT);
    assert_eq!(
        entries
            .iter()
            .filter(|e| e["action"] == "ticket.takedown")
            .count(),
        1
    );

    // Both are told; the markup arrives as text.
    let mail = app.mailbox().await;
    let to_seller = mail
        .iter()
        .find(|m| m.to == seller_email && m.subject == "Listing taken down: Fake <b>final</b>")
        .expect("the seller's email");
    assert!(
        to_seller.text.contains(REASON_AS_KEPT),
        "{}",
        to_seller.text
    );
    assert!(!to_seller.html.contains("<script>"), "{}", to_seller.html);
    assert!(
        mail.iter().any(
            |m| m.to == buyer_email && m.subject == "Your reservation ended: Fake <b>final</b>"
        )
    );

    // A sold ticket is refunded, not taken down.
    let sold = app
        .create_ticket(&seller, &json!({ "title": "Sold one", "price": 10 }))
        .await;
    app.buy(&other, sold["id"].as_str().unwrap()).await;
    let refused = app
        .post_json(
            &admin,
            &format!(
                "/api/admin/tickets/{}/takedown",
                sold["id"].as_str().unwrap()
            ),
            &json!({ "reason": "x" }),
        )
        .await;
    assert_errors(
        refused,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "A sold ticket cannot be taken down; refund its order first, then take the listing down" }]),
    )
    .await;
    // Unknown and malformed ids.
    for path in [
        "/api/admin/tickets/0190f1d2-7c3a-7d4e-8f00-000000000000/takedown",
        "/api/admin/tickets/%3Cx%3E/takedown",
    ] {
        let missing = app.post_json(&admin, path, &json!({ "reason": "x" })).await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn a_suspension_ends_sessions_hides_listings_and_refuses_sign_in_until_lifted() {
    let app = spawn_app().await;
    let (admin, admin_id) = app.admin().await;
    let (seller, seller_email) = app.signed_in_user().await;
    let other_device = client();
    assert_eq!(
        app.sign_in(&other_device, &seller_email, PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
    let ticket = app
        .create_ticket(&seller, &json!({ "title": "Cup final", "price": 20 }))
        .await;
    let id = ticket["id"].as_str().unwrap().to_string();
    let seller_id = user_id(&app, &seller).await;
    assert!(browse_ids(&app).await.contains(&id));

    let path = format!("/api/admin/users/{seller_id}/suspend");
    let suspended = app
        .post_json(&admin, &path, &json!({ "reason": HOSTILE_REASON }))
        .await;
    assert_eq!(suspended.status(), StatusCode::OK);
    assert_eq!(
        suspended.json::<Value>().await.unwrap(),
        json!({ "id": seller_id, "suspended": true })
    );

    // Signed out everywhere at once; the right password is answered 403, a wrong one as ever.
    for device in [&seller, &other_device] {
        let me: Value = app.get_json(device, "/api/users/currentuser").await;
        assert_eq!(me["currentUser"], Value::Null);
    }
    let refused = app.sign_in(&client(), &seller_email, PASSWORD).await;
    assert_errors(
        refused,
        StatusCode::FORBIDDEN,
        json!([{ "message": "Account suspended" }]),
    )
    .await;
    let wrong = app
        .sign_in(&client(), &seller_email, "not the password at all")
        .await;
    assert_errors(
        wrong,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Invalid credentials" }]),
    )
    .await;

    // The listing is off sale while the suspension lasts.
    assert!(!browse_ids(&app).await.contains(&id));
    let shown: Value = app.get_json(&client(), &format!("/api/tickets/{id}")).await;
    assert_eq!(shown["status"], "removed");
    let (buyer, _) = app.signed_in_user().await;
    let reserve = app
        .post_json(&buyer, "/api/orders", &json!({ "ticketId": id }))
        .await;
    assert_eq!(reserve.status(), StatusCode::BAD_REQUEST);

    let again = app
        .post_json(&admin, &path, &json!({ "reason": "again" }))
        .await;
    assert_errors(
        again,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Account is already suspended" }]),
    )
    .await;
    // Not oneself, not another admin, not nobody.
    let myself = app
        .post_json(
            &admin,
            &format!("/api/admin/users/{admin_id}/suspend"),
            &json!({ "reason": "x" }),
        )
        .await;
    assert_errors(
        myself,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "You cannot do this to your own account" }]),
    )
    .await;
    let (_, other_admin) = app.admin().await;
    let peer = app
        .post_json(
            &admin,
            &format!("/api/admin/users/{other_admin}/suspend"),
            &json!({ "reason": "x" }),
        )
        .await;
    assert_eq!(peer.status(), StatusCode::BAD_REQUEST);
    let nobody = app
        .post_json(
            &admin,
            "/api/admin/users/0190f1d2-7c3a-7d4e-8f00-000000000000/suspend",
            &json!({ "reason": "x" }),
        )
        .await;
    assert_eq!(nobody.status(), StatusCode::NOT_FOUND);

    // Lifting it: sign-in works, the listing is back.
    let lifted = send(&app, &admin, Method::DELETE, &path, &json!({})).await;
    assert_eq!(lifted.status(), StatusCode::OK);
    assert_eq!(
        lifted.json::<Value>().await.unwrap(),
        json!({ "id": seller_id, "suspended": false })
    );
    assert_eq!(
        app.sign_in(&client(), &seller_email, PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
    assert!(browse_ids(&app).await.contains(&id));
    let twice = send(&app, &admin, Method::DELETE, &path, &json!({})).await;
    assert_errors(
        twice,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Account is not suspended" }]),
    )
    .await;

    let actions: Vec<Value> = audit(&app, &admin)
        .await
        .into_iter()
        .filter(|e| e["targetId"] == json!(seller_id))
        .map(|e| e["action"].clone())
        .collect();
    assert_eq!(
        actions,
        vec![json!("user.suspend"), json!("user.unsuspend")]
    );
    let mail = app.mailbox().await;
    let told = mail
        .iter()
        .find(|m| m.to == seller_email && m.subject == "Your account is suspended")
        .unwrap();
    assert!(told.text.contains(REASON_AS_KEPT));
    assert!(
        mail.iter()
            .any(|m| m.to == seller_email && m.subject == "Your account is active again")
    );
}

#[tokio::test]
async fn sign_ins_racing_a_suspension_leave_no_session_behind() {
    let app = spawn_app_with(|config| config.auth_rate_limit = 0).await;
    let (admin, _) = app.admin().await;
    // Several rounds, each a fresh account signing in on eight devices while it is suspended.
    for _ in 0..5 {
        let (seller, email) = app.signed_in_user().await;
        let seller_id = user_id(&app, &seller).await;
        let devices: Vec<Client> = (0..8).map(|_| client()).collect();
        let path = format!("/api/admin/users/{seller_id}/suspend");
        let sign_ins = join_all(
            devices
                .iter()
                .map(|device| app.sign_in(device, &email, PASSWORD)),
        );
        let reason = json!({ "reason": "Chargebacks" });
        let suspension = app.post_json(&admin, &path, &reason);
        let (_, suspended) = futures::join!(sign_ins, suspension);
        assert_eq!(suspended.status(), StatusCode::OK);
        for device in devices.iter().chain([&seller]) {
            let me: Value = app.get_json(device, "/api/users/currentuser").await;
            assert_eq!(
                me["currentUser"],
                Value::Null,
                "a session outlived the suspension"
            );
        }
    }
}

#[tokio::test]
async fn admins_refund_a_paid_order_once_however_many_try() {
    let app = spawn_app().await;
    let (admin, admin_id) = app.admin().await;
    let (seller, _) = app.signed_in_user().await;
    let ticket = app
        .create_ticket(&seller, &json!({ "title": "Cup final", "price": 20 }))
        .await;
    let (buyer, buyer_email) = app.signed_in_user().await;
    let order = app.buy(&buyer, ticket["id"].as_str().unwrap()).await;
    let order_id = order["id"].as_str().unwrap();
    let path = format!("/api/admin/orders/{order_id}/refund");

    let mut admins = vec![(admin.clone(), admin_id)];
    for _ in 0..3 {
        admins.push(app.admin().await);
    }
    let body = json!({ "reason": "Event cancelled" });
    let answers = join_all(
        admins
            .iter()
            .cycle()
            .take(10)
            .map(|(a, _)| app.post_json(a, &path, &body)),
    )
    .await;
    let mut refunded = Vec::new();
    for answer in answers {
        match answer.status() {
            StatusCode::OK => refunded.push(answer.json::<Value>().await.unwrap()),
            StatusCode::BAD_REQUEST => {
                let body: Value = answer.json().await.unwrap();
                assert_eq!(
                    body,
                    json!({ "errors": [{ "message": "Order is already refunded" }] })
                );
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(refunded.len(), 1);
    assert_eq!(refunded[0]["status"], "cancelled");
    assert_eq!(refunded[0]["refunded"], true);
    assert_eq!(refunded[0]["id"], json!(order_id));
    let entries: Vec<Value> = audit(&app, &admin)
        .await
        .into_iter()
        .filter(|e| e["action"] == "order.refund")
        .collect();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["targetType"], "order");
    assert_eq!(entries[0]["reason"], "Event cancelled");
    assert!(
        admins
            .iter()
            .any(|(_, id)| entries[0]["actorId"] == json!(id)),
        "{entries:#?}"
    );
    assert!(
        app.mailbox()
            .await
            .iter()
            .any(|m| m.to == buyer_email && m.subject == "Refunded: Cup final")
    );

    // A live, unpaid order is not refunded.
    let other = app
        .create_ticket(&seller, &json!({ "title": "Second", "price": 5 }))
        .await;
    let reserved: Value = app
        .post_json(&buyer, "/api/orders", &json!({ "ticketId": other["id"] }))
        .await
        .json()
        .await
        .unwrap();
    let refused = app
        .post_json(
            &admin,
            &format!(
                "/api/admin/orders/{}/refund",
                reserved["id"].as_str().unwrap()
            ),
            &body,
        )
        .await;
    assert_errors(
        refused,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Only a paid order can be refunded" }]),
    )
    .await;
}

#[tokio::test]
async fn held_payouts_are_not_sent_until_released() {
    let app = spawn_app_with(|config| config.payout_delay = 0).await;
    let (admin, _) = app.admin().await;
    let (seller, seller_email, seller_id) = app.verified_user().await;
    assert_eq!(
        app.post_json(&seller, "/api/payouts/account", &json!({}))
            .await
            .status(),
        StatusCode::OK
    );
    let path = format!("/api/admin/users/{seller_id}/payouts/hold");
    let held = app
        .post_json(&admin, &path, &json!({ "reason": "Chargeback review" }))
        .await;
    assert_eq!(held.status(), StatusCode::OK);
    assert_eq!(
        held.json::<Value>().await.unwrap(),
        json!({ "id": seller_id, "payoutsHeld": true })
    );
    let twice = app
        .post_json(&admin, &path, &json!({ "reason": "again" }))
        .await;
    assert_errors(
        twice,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Payouts are already on hold" }]),
    )
    .await;

    let ticket = app
        .create_ticket(&seller, &json!({ "title": "Cup final", "price": 20 }))
        .await;
    let (buyer, _) = app.signed_in_user().await;
    app.buy(&buyer, ticket["id"].as_str().unwrap()).await;
    let ctx = Ctx::system(&app.state);
    let round = payouts::run_round(&ctx).await.unwrap();
    assert_eq!(
        (round.released, round.started),
        (1, 0),
        "released from escrow, not sent"
    );
    let shown: Value = app.get_json(&seller, "/api/payouts").await;
    assert_eq!(shown["available"], json!(20));
    assert_eq!(shown["payouts"], json!([]));

    let released = send(
        &app,
        &admin,
        Method::DELETE,
        &path,
        &json!({ "reason": "Review passed" }),
    )
    .await;
    assert_eq!(released.status(), StatusCode::OK);
    let round = payouts::run_round(&ctx).await.unwrap();
    assert_eq!((round.started, round.paid), (1, 1));
    let shown: Value = app.get_json(&seller, "/api/payouts").await;
    assert_eq!(shown["paidOut"], json!(20));

    let actions: Vec<Value> = audit(&app, &admin)
        .await
        .into_iter()
        .filter(|e| e["targetId"] == json!(seller_id))
        .map(|e| e["action"].clone())
        .collect();
    assert_eq!(
        actions,
        vec![json!("payouts.hold"), json!("payouts.release")]
    );
    let mail = app.mailbox().await;
    assert!(
        mail.iter()
            .any(|m| m.to == seller_email && m.subject == "Your payouts are on hold")
    );
    assert!(
        mail.iter()
            .any(|m| m.to == seller_email && m.subject == "Your payouts are resumed")
    );
}

#[tokio::test]
async fn the_audit_log_pages_in_order_and_cannot_be_rewritten() {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let ctx = Ctx::system(&app.state);
    let mut emails = Vec::new();
    for _ in 0..5 {
        let (_, email) = app.signed_in_user().await;
        roles::grant_role(&ctx, &email, Role::Staff).await.unwrap();
        emails.push(email);
    }
    let all = audit(&app, &admin).await;
    assert_eq!(all.len(), 6, "the admin's grant and five staff grants");
    assert!(
        all.windows(2)
            .all(|w| w[0]["id"].as_i64() < w[1]["id"].as_i64())
    );
    assert!(
        all.iter()
            .all(|e| e["actorId"].is_null() && e["action"] == "role.grant")
    );
    let after = all[2]["id"].as_i64().unwrap();
    let page: Value = app
        .get_json(&admin, &format!("/api/admin/audit?after={after}&limit=2"))
        .await;
    let ids: Vec<i64> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![
            all[3]["id"].as_i64().unwrap(),
            all[4]["id"].as_i64().unwrap()
        ]
    );
    for query in [
        "limit=0",
        "limit=1001",
        "limit=x",
        "after=-1",
        "after=%3Cscript%3E",
    ] {
        let refused = app.get(&admin, &format!("/api/admin/audit?{query}")).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{query}");
    }

    // The database itself refuses to change or remove an entry.
    let mut conn = app.state.db.write.acquire().await.unwrap();
    for sql in [
        "UPDATE audit_log SET reason = 'nothing happened'",
        "DELETE FROM audit_log",
    ] {
        assert!(sqlx::query(sql).execute(&mut *conn).await.is_err(), "{sql}");
    }
    drop(conn);
    assert_eq!(audit(&app, &admin).await, all);
}

#[tokio::test]
async fn integrators_read_the_event_log_with_the_admin_token_or_an_admins_session() {
    const TOKEN: &str = "integrator-token-0123456789abcdef0123";
    let app = spawn_app_with(|config| config.admin_token = Some(TOKEN.to_string())).await;
    let (seller, _) = app.signed_in_user().await;
    for n in 0..5 {
        app.create_ticket(
            &seller,
            &json!({ "title": format!("Listing {n}"), "price": 10 }),
        )
        .await;
    }
    let with_token = |path: &str| client().get(app.url(path)).bearer_auth(TOKEN).send();
    let all: Value = with_token("/api/feed?limit=1000")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let events = all["events"].as_array().unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e["type"] == "TicketCreated")
            .count(),
        5
    );
    assert!(
        events
            .windows(2)
            .all(|w| w[0]["id"].as_i64() < w[1]["id"].as_i64())
    );
    assert_eq!(all["next"], events.last().unwrap()["id"]);
    let first = &events[0];
    assert!(
        first["aggregateId"].is_string()
            && first["payload"].is_object()
            && first["createdAt"].is_string()
    );

    // Paging with `after` reads on exactly where the last page ended.
    let mut after = 0;
    let mut paged = Vec::new();
    loop {
        let page: Value = with_token(&format!("/api/feed?after={after}&limit=2"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let got = page["events"].as_array().unwrap().clone();
        if got.is_empty() {
            assert_eq!(page["next"], json!(after));
            break;
        }
        after = page["next"].as_i64().unwrap();
        paged.extend(got);
    }
    assert_eq!(&paged, events);

    // Anyone else: 401, including a signed-in non-admin and a wrong or malformed token.
    for request in [
        client().get(app.url("/api/feed")),
        seller.get(app.url("/api/feed")),
        client()
            .get(app.url("/api/feed"))
            .bearer_auth("integrator-token-0123456789abcdef0124"),
        client()
            .get(app.url("/api/feed"))
            .header("authorization", "Basic Zm9vOmJhcg=="),
        client()
            .get(app.url("/api/feed"))
            .header("authorization", TOKEN),
    ] {
        let refused = request.send().await.unwrap();
        assert_errors(
            refused,
            StatusCode::UNAUTHORIZED,
            json!([{ "message": "Not authorized" }]),
        )
        .await;
    }
    let (admin, _) = app.admin().await;
    let by_admin = app.get(&admin, "/api/feed?limit=1").await;
    assert_eq!(by_admin.status(), StatusCode::OK);
    for query in ["limit=0", "limit=1001", "after=-5", "after=1.5"] {
        let refused = with_token(&format!("/api/feed?{query}")).await.unwrap();
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{query}");
    }
}

/// Reads the whole integrator log from `after` on, page by page.
async fn read_log_from(app: &TestApp, token: &str, mut after: i64) -> (Vec<Value>, i64) {
    let mut read = Vec::new();
    loop {
        let page: Value = client()
            .get(app.url(&format!("/api/feed?after={after}&limit=7")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let got = page["events"].as_array().unwrap().clone();
        after = page["next"].as_i64().unwrap();
        if got.is_empty() {
            return (read, after);
        }
        read.extend(got);
    }
}

#[tokio::test]
async fn the_event_log_pages_without_a_gap_while_writers_race() {
    const TOKEN: &str = "integrator-token-0123456789abcdef0123";
    let app = spawn_app_with(|config| config.admin_token = Some(TOKEN.to_string())).await;
    let mut sellers = Vec::new();
    for _ in 0..8 {
        sellers.push(app.signed_in_user().await.0);
    }
    let start = read_log_from(&app, TOKEN, 0).await.1;
    // Eight sellers list 10 tickets each at once while an integrator pages on from where it
    // was, again and again: every event is read once, in the order of the ids, none skipped.
    let writers = futures::future::join_all(sellers.iter().enumerate().map(|(n, seller)| {
        let app = &app;
        async move {
            for k in 0..10 {
                app.create_ticket(
                    seller,
                    &json!({ "title": format!("Race {n}-{k}"), "price": 10 }),
                )
                .await;
            }
        }
    }));
    let reader = async {
        let mut paged = Vec::new();
        let mut after = start;
        for _ in 0..40 {
            let (got, next) = read_log_from(&app, TOKEN, after).await;
            paged.extend(got);
            after = next;
        }
        (paged, after)
    };
    let (_, (mut paged, after)) = tokio::join!(writers, reader);
    paged.extend(read_log_from(&app, TOKEN, after).await.0);
    let (all, _) = read_log_from(&app, TOKEN, start).await;
    assert_eq!(
        all.iter().filter(|e| e["type"] == "TicketCreated").count(),
        80
    );
    assert_eq!(
        paged, all,
        "paging while writers race reads what one read after reads"
    );
    assert!(
        all.windows(2)
            .all(|w| w[0]["id"].as_i64() < w[1]["id"].as_i64())
    );
}

#[tokio::test]
async fn an_event_committed_late_is_read_after_the_ones_committed_before_it() {
    use app::ssr::storage::event_log;
    const TOKEN: &str = "integrator-token-0123456789abcdef0123";
    if !on_postgres() {
        // SQLite has one writer: two transactions cannot append side by side.
        return;
    }
    let app = spawn_app_with(|config| config.admin_token = Some(TOKEN.to_string())).await;
    let start = read_log_from(&app, TOKEN, 0).await.1;
    let now = app.clock.now();
    let (first, second) = (
        app::domain::Id::from_trusted("first".into()),
        app::domain::Id::from_trusted("second".into()),
    );
    // The first transaction appends before the second, and commits after it.
    let mut early = app.state.db.write.begin().await.unwrap();
    let mut late = app.state.db.write.begin().await.unwrap();
    event_log::insert_event(&mut early, "Probe", &first, json!({}), now)
        .await
        .unwrap();
    event_log::insert_event(&mut late, "Probe", &second, json!({}), now)
        .await
        .unwrap();
    late.commit().await.unwrap();
    let (seen, next) = read_log_from(&app, TOKEN, start).await;
    assert_eq!(
        seen.iter()
            .map(|e| e["aggregateId"].clone())
            .collect::<Vec<_>>(),
        vec![json!("second")],
        "only what has committed"
    );
    early.commit().await.unwrap();
    let (after, _) = read_log_from(&app, TOKEN, next).await;
    assert_eq!(
        after
            .iter()
            .map(|e| e["aggregateId"].clone())
            .collect::<Vec<_>>(),
        vec![json!("first")],
        "what committed later is read after where the reader was, not before it"
    );
}

#[tokio::test]
async fn a_user_holds_several_roles_and_loses_only_the_one_revoked() {
    let app = spawn_app().await;
    let (door, email) = app.signed_in_user().await;
    let ctx = Ctx::system(&app.state);
    let gig = app.event_on_sale("Gig", 10.0, 1).await;
    let scan = json!({ "code": "TKT-0000-0000-0000", "eventId": gig.event_id });
    assert_eq!(
        app.post_json(&door, "/api/check-ins", &scan).await.status(),
        StatusCode::FORBIDDEN
    );
    roles::grant_role(&ctx, &email, Role::Staff).await.unwrap();
    roles::grant_role(&ctx, &email, Role::Organiser)
        .await
        .unwrap();
    // Granting a role held already changes nothing.
    roles::grant_role(&ctx, &email, Role::Staff).await.unwrap();
    assert_eq!(
        app.post_json(&door, "/api/check-ins", &scan).await.status(),
        StatusCode::OK
    );
    roles::revoke_role(&ctx, &email, Some(Role::Organiser))
        .await
        .unwrap();
    assert_eq!(
        app.post_json(&door, "/api/check-ins", &scan).await.status(),
        StatusCode::OK,
        "still staff"
    );
    roles::revoke_role(&ctx, &email, None).await.unwrap();
    assert_eq!(
        app.post_json(&door, "/api/check-ins", &scan).await.status(),
        StatusCode::FORBIDDEN
    );
    let err = roles::grant_role(&ctx, "nobody@example.com", Role::Staff).await;
    assert!(err.is_err(), "no such account");
    let (admin, _) = app.admin().await;
    let log = audit(&app, &admin).await;
    let door_id = app.current_user(&door).await["id"].clone();
    let reasons: Vec<&str> = log
        .iter()
        .filter(|e| e["targetId"] == door_id)
        .filter_map(|e| e["reason"].as_str())
        .collect();
    assert_eq!(
        reasons,
        [
            "staff: command line",
            "organiser: command line",
            "staff: command line",
            "organiser: command line",
            "every role: command line"
        ]
    );
}
