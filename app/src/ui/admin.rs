//! `/admin`: the operator's console. A dashboard, then listings, users, orders, payouts and the
//! audit log, each a page of its own with a search box (a GET form) and one small form per
//! action with its reason. Everything works without JavaScript: searches are links and forms
//! are plain posts that come back to the page.

use super::form::{FormErrors, LoadError};
use crate::error::AppError;
use crate::server_fns::*;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_query_map;

/// Which page of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Dashboard,
    Listings,
    Users,
    Orders,
    Payouts,
    Audit,
}

impl Section {
    const ALL: [Section; 6] = [
        Section::Dashboard,
        Section::Listings,
        Section::Users,
        Section::Orders,
        Section::Payouts,
        Section::Audit,
    ];

    fn path(self) -> &'static str {
        match self {
            Section::Dashboard => "/admin",
            Section::Listings => "/admin/listings",
            Section::Users => "/admin/users",
            Section::Orders => "/admin/orders",
            Section::Payouts => "/admin/payouts",
            Section::Audit => "/admin/audit",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Section::Dashboard => "Dashboard",
            Section::Listings => "Listings",
            Section::Users => "Users",
            Section::Orders => "Orders",
            Section::Payouts => "Payouts",
            Section::Audit => "Audit log",
        }
    }
}

/// The console's frame: its navigation and the page, or the refusal for non-admins.
#[component]
fn Console(section: Section, children: Children) -> impl IntoView {
    view! {
        <Title text=format!("Admin · {}", section.label()) />
        <Meta name="description" content="The marketplace operator's console." />
        <section class="console">
            <nav class="console-nav" aria-label="Console">
                {Section::ALL
                    .into_iter()
                    .map(|s| {
                        let current = (s == section).then_some("page");
                        view! { <a href=s.path() aria-current=current>{s.label()}</a> }
                    })
                    .collect_view()}
            </nav>
            <h1>{section.label()}</h1>
            {children()}
        </section>
    }
}

/// What a page shows when loading it failed: the refusal for non-admins, or the error.
fn refusal(error: AppError) -> AnyView {
    match error {
        AppError::Unauthenticated | AppError::Forbidden => view! {
            <Title text="Admin" />
            <Meta name="description" content="The marketplace operator's console." />
            <section class="card narrow">
                <h1>"Admin"</h1>
                <p>"This page is for the marketplace's admins."</p>
                <p><a href="/">"Back to the tickets"</a></p>
            </section>
        }
        .into_any(),
        error => view! { <LoadError error /> }.into_any(),
    }
}

/// `?q=` and `?page=` of the address.
fn search_and_page() -> (String, i64) {
    let query = use_query_map();
    let query = query.read_untracked();
    let q = query.get("q").unwrap_or_default();
    let page = query
        .get("page")
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(0)
        .clamp(0, 100_000);
    (q, page)
}

#[component]
fn SearchBox(action: &'static str, value: String, placeholder: &'static str) -> impl IntoView {
    view! {
        <form method="get" action=action class="console-search" role="search">
            <label for="console-q">"Search"</label>
            <input id="console-q" name="q" type="search" value=value placeholder=placeholder maxlength="200" />
            <button type="submit">"Search"</button>
        </form>
    }
}

/// Links to the previous and next page of a list, keeping the search.
#[component]
fn Pager(path: &'static str, q: String, page: i64, full: bool) -> impl IntoView {
    let q = crate::domain::browse::urlencode(&q);
    let href = move |p: i64| format!("{path}?q={q}&page={p}");
    view! {
        <nav class="pager" aria-label="Pages">
            {(page > 0).then(|| view! { <a href=href(page - 1) rel="prev">"Previous"</a> })}
            {full.then(|| view! { <a href=href(page + 1) rel="next">"Next"</a> })}
        </nav>
    }
}

/// The reason input of an action's form (every admin action says why).
#[component]
fn ReasonInput(id: String, #[prop(default = true)] required: bool) -> impl IntoView {
    view! {
        <label for=id.clone() class="visually-hidden">"Reason"</label>
        <input id=id name="reason" type="text" placeholder="Reason" maxlength="500" required=required />
    }
}

#[component]
pub fn AdminDashboard() -> impl IntoView {
    let figures = Resource::new(|| (), |_| admin_dashboard());
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match figures.await {
                    Ok(d) => view! {
                        <Console section=Section::Dashboard>
                            <dl class="balances" data-testid="dashboard">
                                <Figure label="On sale now" value=d.on_sale />
                                <Figure label="Live reservations" value=d.live_reservations />
                                <Figure label="Sold today (UTC)" value=format!("{} · {}", d.sales_today, d.gross_today) />
                                <Figure label="Sold in 30 days" value=format!("{} · {}", d.sales_30_days, d.gross_30_days) />
                                <Figure label="Fees today" value=d.fees_today />
                                <Figure label="Fees in 30 days" value=d.fees_30_days />
                                <Figure label="Payouts pending" value=format!("{} · {}", d.payouts_pending, d.payouts_pending_total) />
                                <Figure label="Payouts failed" value=format!("{} · {}", d.payouts_failed, d.payouts_failed_total) />
                                <Figure label="Sellers with payouts held" value=d.sellers_held />
                            </dl>
                        </Console>
                    }
                    .into_any(),
                    Err(error) => refusal(error),
                }
            })}
        </Transition>
    }
}

#[component]
fn Figure(label: &'static str, value: String) -> impl IntoView {
    view! {
        <div class="balance">
            <dt>{label}</dt>
            <dd>{value}</dd>
        </div>
    }
}

#[component]
pub fn AdminListings() -> impl IntoView {
    let take_down = ServerAction::<AdminTakeDown>::new();
    let (q, page) = search_and_page();
    let search = q.clone();
    let rows = Resource::new(
        move || take_down.version().get(),
        move |_| admin_listings(search.clone(), page),
    );
    let error = Signal::derive(move || take_down.value().get().and_then(Result::err));
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let q = q.clone();
                Suspend::new(async move {
                    match rows.await {
                        Ok(rows) => {
                            let full = rows.len() as i64 >= 50;
                            view! {
                                <Console section=Section::Listings>
                                    <SearchBox action="/admin/listings" value=q.clone() placeholder="Title words or listing id" />
                                    <FormErrors error fields=&[] />
                                    <table class="console-table">
                                        <thead><tr><th>"Listing"</th><th>"Seller"</th><th>"Price"</th><th>"Status"</th><th>"Action"</th></tr></thead>
                                        <tbody>
                                            {rows.into_iter().map(|row| {
                                                let removable = row.status != "sold" && row.removed_reason.is_none();
                                                let reason_id = format!("takedown-{}", row.id);
                                                view! {
                                                    <tr data-testid="listing-row">
                                                        <td><a href=format!("/tickets/{}", row.id)>{row.title}</a><br /><small class="muted">{row.listed}</small></td>
                                                        <td>{row.seller}</td>
                                                        <td>{row.price}</td>
                                                        <td>{row.status}{row.removed_reason.map(|r| view! { <br /><small class="muted">{r}</small> })}</td>
                                                        <td>{removable.then(|| view! {
                                                            <ActionForm action=take_down attr:class="console-action">
                                                                <input type="hidden" name="ticket_id" value=row.id.clone() />
                                                                <ReasonInput id=reason_id />
                                                                <button type="submit" class="danger">"Take down"</button>
                                                            </ActionForm>
                                                        })}</td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                    <Pager path="/admin/listings" q=q page full />
                                </Console>
                            }
                            .into_any()
                        }
                        Err(error) => refusal(error),
                    }
                })
            }}
        </Transition>
    }
}

#[component]
pub fn AdminUsers() -> impl IntoView {
    let suspend = ServerAction::<AdminSuspend>::new();
    let hold = ServerAction::<AdminHoldPayouts>::new();
    let staff = ServerAction::<AdminSetStaff>::new();
    let (q, page) = search_and_page();
    let search = q.clone();
    let rows = Resource::new(
        move || {
            (
                suspend.version().get(),
                hold.version().get(),
                staff.version().get(),
            )
        },
        move |_| admin_users(search.clone(), page),
    );
    let error = Signal::derive(move || {
        suspend
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| hold.value().get().and_then(Result::err))
            .or_else(|| staff.value().get().and_then(Result::err))
    });
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let q = q.clone();
                Suspend::new(async move {
                    match rows.await {
                        Ok(rows) => {
                            let full = rows.len() as i64 >= 50;
                            view! {
                                <Console section=Section::Users>
                                    <SearchBox action="/admin/users" value=q.clone() placeholder="Email address or user id" />
                                    <FormErrors error fields=&[] />
                                    <table class="console-table">
                                        <thead><tr><th>"Account"</th><th>"State"</th><th>"Actions"</th></tr></thead>
                                        <tbody>
                                            {rows.into_iter().map(|row| {
                                                let admin = row.roles.iter().any(|r| r == "admin");
                                                let is_staff = row.roles.iter().any(|r| r == "staff");
                                                let mut state = row.roles.clone();
                                                if !row.verified { state.push("unverified".to_string()); }
                                                if row.suspended { state.push("suspended".to_string()); }
                                                if row.payouts_held { state.push("payouts held".to_string()); }
                                                let (id1, id2, id3) = (row.id.clone(), row.id.clone(), row.id.clone());
                                                let (r1, r2, r3) = (format!("suspend-{}", row.id), format!("hold-{}", row.id), format!("staff-{}", row.id));
                                                let (suspended, held) = (row.suspended, row.payouts_held);
                                                view! {
                                                    <tr data-testid="user-row">
                                                        <td>{row.email}<br /><small class="muted">{format!("joined {}", row.joined)}</small></td>
                                                        <td>{if state.is_empty() { "active".to_string() } else { state.join(", ") }}</td>
                                                        <td>{(!admin).then(|| view! {
                                                            <ActionForm action=suspend attr:class="console-action">
                                                                <input type="hidden" name="user_id" value=id1 />
                                                                <input type="hidden" name="suspend" value=(!suspended).to_string() />
                                                                <ReasonInput id=r1 required=!suspended />
                                                                <button type="submit" class=if suspended { "" } else { "danger" }>
                                                                    {if suspended { "Lift suspension" } else { "Suspend" }}
                                                                </button>
                                                            </ActionForm>
                                                            <ActionForm action=hold attr:class="console-action">
                                                                <input type="hidden" name="user_id" value=id2 />
                                                                <input type="hidden" name="hold" value=(!held).to_string() />
                                                                <ReasonInput id=r2 />
                                                                <button type="submit">{if held { "Release payouts" } else { "Hold payouts" }}</button>
                                                            </ActionForm>
                                                            <ActionForm action=staff attr:class="console-action">
                                                                <input type="hidden" name="user_id" value=id3 />
                                                                <input type="hidden" name="staff" value=(!is_staff).to_string() />
                                                                <ReasonInput id=r3 />
                                                                <button type="submit">{if is_staff { "Revoke staff" } else { "Make staff" }}</button>
                                                            </ActionForm>
                                                        })}</td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                    <Pager path="/admin/users" q=q page full />
                                </Console>
                            }
                            .into_any()
                        }
                        Err(error) => refusal(error),
                    }
                })
            }}
        </Transition>
    }
}

#[component]
pub fn AdminOrders() -> impl IntoView {
    let refund = ServerAction::<AdminRefund>::new();
    let (q, page) = search_and_page();
    let search = q.clone();
    let rows = Resource::new(
        move || refund.version().get(),
        move |_| admin_orders(search.clone(), page),
    );
    let error = Signal::derive(move || refund.value().get().and_then(Result::err));
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let q = q.clone();
                Suspend::new(async move {
                    match rows.await {
                        Ok(rows) => {
                            let full = rows.len() as i64 >= 50;
                            view! {
                                <Console section=Section::Orders>
                                    <SearchBox action="/admin/orders" value=q.clone() placeholder="Order id, ticket id or buyer's email" />
                                    <FormErrors error fields=&[] />
                                    <table class="console-table">
                                        <thead><tr><th>"Order"</th><th>"Buyer"</th><th>"Total"</th><th>"Status"</th><th>"Action"</th></tr></thead>
                                        <tbody>
                                            {rows.into_iter().map(|row| {
                                                let status = if row.refunded { "refunded".to_string() } else { row.status.clone() };
                                                view! {
                                                    <tr data-testid="order-row">
                                                        <td>{row.title}<br /><small class="muted">{format!("{} · {}", row.id, row.placed)}</small></td>
                                                        <td>{row.buyer}</td>
                                                        <td>{row.total}</td>
                                                        <td>{status}</td>
                                                        <td>{row.refundable.then(|| view! {
                                                            <ActionForm action=refund attr:class="console-action">
                                                                <input type="hidden" name="order_id" value=row.id.clone() />
                                                                {(!row.one_by_one.is_empty()).then(|| {
                                                                    let id = format!("refund-ticket-{}", row.id);
                                                                    view! {
                                                                        <label for=id.clone()>"Refund"</label>
                                                                        <select id=id name="ticket_id">
                                                                            <option value="">"The whole order"</option>
                                                                            {row.one_by_one.iter().map(|(ticket, label)| view! {
                                                                                <option value=ticket.clone()>{format!("{label} alone")}</option>
                                                                            }).collect_view()}
                                                                        </select>
                                                                    }
                                                                })}
                                                                <ReasonInput id=format!("refund-{}", row.id) />
                                                                <button type="submit" class="danger">"Refund"</button>
                                                            </ActionForm>
                                                        })}</td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                    <Pager path="/admin/orders" q=q page full />
                                </Console>
                            }
                            .into_any()
                        }
                        Err(error) => refusal(error),
                    }
                })
            }}
        </Transition>
    }
}

#[component]
pub fn AdminPayouts() -> impl IntoView {
    let hold = ServerAction::<AdminHoldPayouts>::new();
    let (_, page) = search_and_page();
    let rows = Resource::new(move || hold.version().get(), move |_| admin_payouts(page));
    let error = Signal::derive(move || hold.value().get().and_then(Result::err));
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match rows.await {
                    Ok(rows) => {
                        let full = rows.len() as i64 >= 50;
                        view! {
                            <Console section=Section::Payouts>
                                <FormErrors error fields=&[] />
                                <table class="console-table">
                                    <thead><tr><th>"Payout"</th><th>"Seller"</th><th>"Amount"</th><th>"Status"</th><th>"Seller's payouts"</th></tr></thead>
                                    <tbody>
                                        {rows.into_iter().map(|row| view! {
                                            <tr data-testid="payout-row">
                                                <td><small>{row.id.clone()}</small><br /><small class="muted">{row.created}</small></td>
                                                <td>{row.seller}</td>
                                                <td>{row.amount}</td>
                                                <td>{row.status}{row.failure.map(|f| view! { <br /><small class="muted">{f}</small> })}</td>
                                                <td>
                                                    <ActionForm action=hold attr:class="console-action">
                                                        <input type="hidden" name="user_id" value=row.seller_id.clone() />
                                                        <input type="hidden" name="hold" value=(!row.held).to_string() />
                                                        <ReasonInput id=format!("hold-{}", row.id) />
                                                        <button type="submit">{if row.held { "Release" } else { "Hold" }}</button>
                                                    </ActionForm>
                                                </td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                <Pager path="/admin/payouts" q=String::new() page full />
                            </Console>
                        }
                        .into_any()
                    }
                    Err(error) => refusal(error),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn AdminAudit() -> impl IntoView {
    let query = use_query_map();
    let before = query
        .read_untracked()
        .get("before")
        .and_then(|b| b.parse::<i64>().ok());
    let rows = Resource::new(|| (), move |_| admin_audit(before));
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match rows.await {
                    Ok(rows) => {
                        let older = (rows.len() >= 50).then(|| rows.last().map(|r| r.id)).flatten();
                        view! {
                            <Console section=Section::Audit>
                                <table class="console-table">
                                    <thead><tr><th>"When"</th><th>"Who"</th><th>"What"</th><th>"On"</th><th>"Why"</th></tr></thead>
                                    <tbody>
                                        {rows.into_iter().map(|row| view! {
                                            <tr data-testid="audit-row">
                                                <td>{row.at}</td>
                                                <td>{row.actor}</td>
                                                <td>{row.action}</td>
                                                <td><small>{row.target}</small></td>
                                                <td>{row.reason}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                {older.map(|id| view! { <nav class="pager" aria-label="Pages"><a href=format!("/admin/audit?before={id}")>"Older entries"</a></nav> })}
                            </Console>
                        }
                        .into_any()
                    }
                    Err(error) => refusal(error),
                }
            })}
        </Transition>
    }
}
