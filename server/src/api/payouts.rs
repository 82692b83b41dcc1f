//! `/api/payouts`: a seller's balances, earnings and payouts, and connecting a payout account.

use super::openapi::Refusals;
use super::orders::money;
use app::AppError;
use app::ssr::Ctx;
use app::ssr::services::payouts::{self, Overview};
use axum::Json;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PayoutsJson {
    #[schema(value_type = f64)]
    pending: Value,
    #[schema(value_type = f64)]
    available: Value,
    #[schema(value_type = f64)]
    paid_out: Value,
    /// When the next earning in escrow is released (RFC 3339), if any.
    next_release_at: Option<String>,
    account: AccountJson,
    payouts: Vec<PayoutJson>,
    earnings: Vec<EarningJson>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AccountJson {
    status: &'static str,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct PayoutJson {
    id: String,
    #[schema(value_type = f64)]
    amount: Value,
    status: &'static str,
    stripe_transfer_id: Option<String>,
    created_at: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct EarningJson {
    order_id: String,
    ticket_id: String,
    #[schema(value_type = f64)]
    amount: Value,
    status: &'static str,
    release_at: String,
}

impl From<&Overview> for PayoutsJson {
    fn from(overview: &Overview) -> PayoutsJson {
        PayoutsJson {
            pending: money(overview.pending_cents),
            available: money(overview.available_cents),
            paid_out: money(overview.paid_out_cents),
            next_release_at: overview.next_release.map(|t| t.to_rfc3339()),
            account: AccountJson {
                status: overview.account.as_str(),
            },
            payouts: overview
                .payouts
                .iter()
                .map(|p| PayoutJson {
                    id: p.id.to_string(),
                    amount: money(p.amount_cents),
                    status: p.status.as_str(),
                    stripe_transfer_id: p.stripe_transfer_id.clone(),
                    created_at: p.created_at.to_rfc3339(),
                })
                .collect(),
            earnings: overview
                .earnings
                .iter()
                .map(|e| EarningJson {
                    order_id: e.order_id.to_string(),
                    ticket_id: e.ticket_id.to_string(),
                    amount: money(e.net_cents),
                    status: e.status.as_str(),
                    release_at: e.release_at.to_rfc3339(),
                })
                .collect(),
        }
    }
}

/// `GET /api/payouts`: the signed-in seller's balances, earnings and payouts.
#[utoipa::path(get, path = "/payouts", tag = "payouts",
    responses((status = 200, body = PayoutsJson), Refusals))]
pub async fn overview(ctx: Ctx) -> Result<Json<PayoutsJson>, AppError> {
    let overview = payouts::overview(&ctx).await?;
    Ok(Json(PayoutsJson::from(&overview)))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectedJson {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    onboarding_url: Option<String>,
}

/// Connecting asks for nothing: `{}`.
#[derive(serde::Deserialize, ToSchema)]
pub struct ConnectBody {}

/// `POST /api/payouts/account` with `{}`.
#[utoipa::path(post, path = "/payouts/account", tag = "payouts", request_body = ConnectBody,
    responses((status = 200, body = ConnectedJson), Refusals))]
pub async fn connect_account(
    ctx: Ctx,
    super::ApiJson(_body): super::ApiJson<ConnectBody>,
) -> Result<Json<ConnectedJson>, AppError> {
    let connected = payouts::connect_account(&ctx).await?;
    Ok(Json(ConnectedJson {
        status: connected.status.as_str(),
        onboarding_url: connected.onboarding_url,
    }))
}
