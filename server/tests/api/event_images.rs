//! Event images (docs/RULES.md, "Events"): hostile input, decoded under a limit, kept at two
//! widths in the database and served from `/media/` for good.

use crate::helpers::*;
use image::{ImageEncoder, RgbImage};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

fn png(width: u32, height: u32) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            image.as_raw(),
            width,
            height,
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

async fn put_image(
    app: &TestApp,
    client: &Client,
    id: &str,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    client
        .put(app.url(&format!("/api/events/{id}/image")))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn refusal(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_image_is_kept_at_two_widths_and_served_for_good() {
    let app = spawn_app().await;
    let gig = app.event_on_sale("Poster Night", 20.0, 2).await;
    let answer = put_image(
        &app,
        &gig.organiser,
        &gig.event_id,
        "image/png",
        png(1600, 400),
    )
    .await;
    assert_eq!(answer.status(), StatusCode::OK);
    let event: Value = answer.json().await.unwrap();
    let (large, small) = (
        event["imageUrl"].as_str().unwrap().to_string(),
        event["imageSmallUrl"].as_str().unwrap().to_string(),
    );
    for (url, width) in [(&large, 1200), (&small, 400)] {
        assert!(url.starts_with("/media/") && url.ends_with(".jpg"), "{url}");
        let served = app.get(&client(), url).await;
        assert_eq!(served.status(), StatusCode::OK);
        assert_eq!(served.headers()["content-type"], "image/jpeg");
        assert_eq!(
            served.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        let decoded = image::load_from_memory(&served.bytes().await.unwrap()).unwrap();
        assert_eq!(decoded.width(), width);
    }
    // Cards show the small copy, the page the large one.
    let home = app.get(&client(), "/").await.text().await.unwrap();
    assert!(home.contains(&format!("src=\"{small}\"")), "{home}");
    let page = app
        .get(
            &client(),
            &format!("/events/{}", event["slug"].as_str().unwrap()),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("src=\"{large}\"")));
    assert!(page.contains(&format!("{large}\"")) && page.contains("og:image"));

    // Taken away again: no image, and the page shows the placeholder.
    let removed = gig
        .organiser
        .delete(app.url(&format!("/api/events/{}/image", gig.event_id)))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::OK);
    let event: Value = removed.json().await.unwrap();
    assert_eq!(event["imageUrl"], Value::Null);
    for name in [
        "/media/0123456789abcdef0123456789abcdef.jpg",
        "/media/..%2Fetc%2Fpasswd",
        "/media/x",
    ] {
        assert_eq!(
            app.get(&client(), name).await.status(),
            StatusCode::NOT_FOUND,
            "{name}"
        );
    }
}

#[tokio::test]
async fn anything_but_a_small_enough_image_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let gig = app.event_on_sale("Hostile Night", 20.0, 2).await;
    let organiser = &gig.organiser;
    let good = png(64, 64);
    let unreadable = json!([{ "field": "image", "message": "Image could not be read" }]);
    for (body, content_type) in [
        (b"not an image at all".to_vec(), "image/jpeg"),
        (Vec::new(), "image/png"),
        (good[..good.len() / 2].to_vec(), "image/png"),
        (
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>".to_vec(),
            "image/png",
        ),
        (
            b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec(),
            "image/webp",
        ),
    ] {
        let (status, body) =
            refusal(put_image(&app, organiser, &gig.event_id, content_type, body).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["errors"], unreadable);
    }
    // A PNG whose header declares 60,000 × 60,000 pixels: refused before decoding.
    let mut bomb = good.clone();
    bomb[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&60_000u32.to_be_bytes());
    let crc = crc32(&bomb[12..29]);
    bomb[29..33].copy_from_slice(&crc.to_be_bytes());
    let (status, body) =
        refusal(put_image(&app, organiser, &gig.event_id, "image/png", bomb).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["message"], "Image is too large");
    // Another type, and a body over 5 MB.
    let (status, _) =
        refusal(put_image(&app, organiser, &gig.event_id, "text/html", good.clone()).await).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let mut huge = good.clone();
    huge.resize(5 * 1024 * 1024 + 1, 0);
    let (status, _) =
        refusal(put_image(&app, organiser, &gig.event_id, "image/png", huge).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // A polyglot keeps only its pixels.
    let mut polyglot = good.clone();
    polyglot.extend_from_slice(b"<script>alert(1)</script>");
    let kept: Value = put_image(&app, organiser, &gig.event_id, "image/png", polyglot)
        .await
        .json()
        .await
        .unwrap();
    let served = app
        .get(&client(), kept["imageUrl"].as_str().unwrap())
        .await
        .bytes()
        .await
        .unwrap();
    assert!(!served.windows(7).any(|w| w == b"<script"));

    // Nobody else may: another organiser, a plain account, nobody signed in, another site.
    let (other, other_email, _) = app.verified_user().await;
    app.grant(&other_email, app::domain::role::Role::Organiser)
        .await;
    let (plain, _) = app.signed_in_user().await;
    for (who, expected) in [
        (&other, StatusCode::FORBIDDEN),
        (&plain, StatusCode::FORBIDDEN),
        (&client(), StatusCode::UNAUTHORIZED),
    ] {
        let status = put_image(&app, who, &gig.event_id, "image/png", good.clone())
            .await
            .status();
        assert_eq!(status, expected);
    }
    let cross_site = organiser
        .put(app.url(&format!("/api/events/{}/image", gig.event_id)))
        .header("content-type", "image/png")
        .header("origin", "https://evil.example")
        .body(good.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    let event: Value = app
        .get(&client(), &format!("/api/events/{}", gig.event_id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        event["imageUrl"], kept["imageUrl"],
        "unchanged by the refusals"
    );
}

/// A multipart body with one file field named `image`.
fn multipart(bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----ticketing-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"p.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn the_organiser_page_uploads_an_image_without_javascript() {
    let app = spawn_app().await;
    let gig = app.event_on_sale("Form Upload", 20.0, 2).await;
    let page = format!("/organise/{}", gig.event_id);
    let upload = |who: &Client, bytes: Vec<u8>| {
        let (content_type, body) = multipart(&bytes);
        who.post(app.url(&format!("{page}/image")))
            .header("content-type", content_type)
            .header("referer", app.url(&page))
            .body(body)
            .send()
    };
    let done = upload(&gig.organiser, png(500, 200)).await.unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(done.headers()["location"], format!("{page}?image=saved"));
    let shown = app
        .get(&gig.organiser, &format!("{page}?image=saved"))
        .await
        .text()
        .await
        .unwrap();
    assert!(shown.contains("Image saved."));
    assert!(shown.contains("data-testid=\"event-image\""));
    let bad = upload(&gig.organiser, b"nope".to_vec()).await.unwrap();
    assert_eq!(
        bad.headers()["location"],
        format!("{page}?image=unreadable")
    );
    let shown = app
        .get(&gig.organiser, &format!("{page}?image=unreadable"))
        .await
        .text()
        .await
        .unwrap();
    assert!(shown.contains("Image could not be read"));
    // Words it does not know say nothing.
    let shown = app
        .get(&gig.organiser, &format!("{page}?image=%3Cb%3Ehacked"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!shown.contains("hacked"));
    let (plain, _) = app.signed_in_user().await;
    assert_eq!(
        upload(&plain, png(10, 10)).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let anonymous = upload(&client(), png(10, 10)).await.unwrap();
    assert_eq!(anonymous.headers()["location"], "/auth/signin");
}

/// CRC-32 as PNG chunks carry it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
