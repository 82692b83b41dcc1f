//! `ApiJson`: axum's JSON extractor with its rejections turned into the error envelope.

use app::AppError;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::extract::{FromRequestParts, Query};
use axum::http::StatusCode;
use axum::http::request::Parts;

pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<serde_json::Value>::from_request(req, state).await {
            // Only an object can carry named fields; serde would otherwise read `[a, b]` as one.
            Ok(Json(value)) if value.is_object() => serde_json::from_value(value)
                .map(ApiJson)
                .map_err(|_| AppError::invalid("The request body must be a JSON object")),
            Ok(Json(_)) => Err(AppError::invalid("The request body must be a JSON object")),
            Err(rejection) => Err(match rejection {
                JsonRejection::MissingJsonContentType(_) => AppError::UnsupportedMediaType(
                    "Expected a JSON body with Content-Type: application/json".to_string(),
                ),
                JsonRejection::JsonSyntaxError(_) => {
                    AppError::invalid("The request body is not valid JSON")
                }
                JsonRejection::JsonDataError(_) => {
                    AppError::invalid("The request body must be a JSON object")
                }
                other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    AppError::PayloadTooLarge
                }
                other if crate::security::timed_out(&other) => AppError::TimedOut,
                _ => AppError::invalid("The request body could not be read"),
            }),
        }
    }
}

/// axum's query-string extractor with its rejection in the envelope.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| ApiQuery(value))
            .map_err(|_| AppError::invalid("The query string could not be read"))
    }
}
