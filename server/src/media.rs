//! Event images: `/media/<hash>.jpg` serves a kept copy to anyone, cached for good (its name is
//! the hash of its bytes, so it never changes); `POST /organise/:id/image` is the organiser
//! page's upload form (multipart, so it works without JavaScript), which answers with a
//! redirect back to the page saying how it went.

use crate::api::events::IMAGE_BODY_LIMIT;
use app::AppError;
use app::domain::Id;
use app::ssr::images::{IMAGE_TOO_LARGE, IMAGE_UNREADABLE};
use app::ssr::services::events;
use app::ssr::{AppState, Ctx};
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};

/// Room for the multipart framing around an image of [`IMAGE_BODY_LIMIT`].
pub const UPLOAD_BODY_LIMIT: usize = IMAGE_BODY_LIMIT + 64 * 1024;

pub async fn serve(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    match events::media(&Ctx::system(&state), &name).await {
        Ok((content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, content_type),
                (
                    header::CACHE_CONTROL,
                    "public, max-age=31536000, immutable".to_string(),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(err) => err.into_response(),
    }
}

/// How an upload went, as the page's address says it (`?image=…`): a word from a fixed list,
/// never text from the request, so nobody can make the page say something else.
fn outcome(result: &Result<(), AppError>) -> &'static str {
    match result {
        Ok(()) => "saved",
        Err(AppError::PayloadTooLarge) => "too-big",
        Err(AppError::Invalid(details)) if details.iter().any(|d| d.message == IMAGE_TOO_LARGE) => {
            "too-large"
        }
        Err(AppError::Invalid(details))
            if details.iter().any(|d| d.message == IMAGE_UNREADABLE) =>
        {
            "unreadable"
        }
        Err(AppError::Invalid(_)) => "refused",
        Err(_) => "failed",
    }
}

pub async fn upload(
    ctx: Ctx,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let Ok(event) = Id::parse(&id) else {
        return AppError::NotFound.into_response();
    };
    if let Err(err) = events::require_organiser(&ctx).await {
        return match err {
            AppError::Unauthenticated => Redirect::to("/auth/signin").into_response(),
            err => err.into_response(),
        };
    }
    let result = async {
        let mut multipart =
            multipart.map_err(|_| AppError::invalid_field("image", "Choose an image to upload"))?;
        let mut image = None;
        loop {
            let field = match multipart.next_field().await {
                Ok(Some(field)) => field,
                Ok(None) => break,
                Err(err) if err.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                    return Err(AppError::PayloadTooLarge);
                }
                Err(_) => return Err(AppError::invalid("The upload could not be read")),
            };
            if field.name() == Some("image") {
                let bytes = field.bytes().await.map_err(|err| {
                    if err.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                        AppError::PayloadTooLarge
                    } else {
                        AppError::invalid("The upload could not be read")
                    }
                })?;
                if bytes.len() > IMAGE_BODY_LIMIT {
                    return Err(AppError::PayloadTooLarge);
                }
                image = Some(bytes);
            }
        }
        let image = image
            .filter(|bytes| !bytes.is_empty())
            .ok_or_else(|| AppError::invalid_field("image", "Choose an image to upload"))?;
        events::set_image(&ctx, &event, image.to_vec())
            .await
            .map(|_| ())
    }
    .await;
    match &result {
        Err(AppError::Forbidden | AppError::NotFound) => result.unwrap_err().into_response(),
        _ => Redirect::to(&format!("/organise/{event}?image={}", outcome(&result))).into_response(),
    }
}
