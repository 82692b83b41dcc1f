//! Pages and components. Every page works as plain HTML (forms post, the server redirects) and
//! hydrates into an app that submits without reloads when JavaScript runs.

mod account;
mod admin;
mod auth;
mod browse;
mod buy;
mod check_in;
mod countdown;
mod events;
mod form;
mod header;
mod my_tickets;
mod new_ticket;
mod not_found;
mod orders;
mod organise;
mod payouts;
mod ticket_form;
mod ticket_page;

use crate::error::AppError;
use crate::server_fns::{CurrentUser, PaymentMode, SignOut, get_current_user, get_payment_mode};
use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{Lazy, SsrMode, path};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::ssr::page_security::send_policy_with_nonce();
    #[cfg(feature = "ssr")]
    crate::ssr::split_manifest::provide(&options.site_pkg_dir);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                // In the release binary the folder's name is a hash of its contents.
                <link
                    rel="stylesheet"
                    id="leptos"
                    href=format!("/{}/{}.css", options.site_pkg_dir, options.output_name)
                />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Whether payments run in test mode (pages show a banner and the test card form).
pub type PaymentModeResource = Resource<Result<PaymentMode, AppError>>;

/// Who is signed in, refetched whenever an account action succeeds.
pub type UserResource = Resource<Result<Option<CurrentUser>, AppError>>;

/// The signed-in user and the actions that change it. Pages create their own form actions (so
/// that errors a no-JavaScript post left in the URL reach them) and register them with
/// [`Account::track`] so the header follows.
#[derive(Clone, Copy)]
pub struct Account {
    pub user: UserResource,
    pub sign_out: ServerAction<SignOut>,
    changed: RwSignal<u32>,
}

impl Account {
    /// Refetches the signed-in user each time `action` succeeds. A failed one changed nothing
    /// on the server, and refetching would re-render the page under the person still typing.
    pub fn track<S>(&self, action: ServerAction<S>)
    where
        S: leptos::server_fn::ServerFn + Clone + Send + Sync + 'static,
        S::Output: Send + Sync + 'static,
        S::Error: Send + Sync + 'static,
    {
        let changed = self.changed;
        let successes = successes(action);
        // Actions only complete in the browser; a server render has nothing to follow.
        #[cfg(feature = "hydrate")]
        Effect::new(move |_| {
            if successes.get() > 0 {
                changed.update(|n| *n += 1);
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = (changed, successes);
    }
}

/// How many times `action` has succeeded, for resources that only need refetching after a
/// change went through: a failure (a wrong code, a wrong password) changed nothing on the
/// server, and a refetch would replace the form the person is correcting. Always 0 in a server
/// render, where actions do not complete.
pub fn successes<S>(action: ServerAction<S>) -> ReadSignal<u32>
where
    S: leptos::server_fn::ServerFn + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
    S::Error: Send + Sync + 'static,
{
    let (count, set_count) = signal(0u32);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        // Tracks the version (each completion, even with an unchanged value); reads the value
        // it completed with.
        if action.version().get() > 0
            && action
                .value()
                .with_untracked(|value| matches!(value, Some(Ok(_))))
        {
            set_count.update(|n| *n += 1);
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (action, set_count);
    count
}

/// The document title for a page called `page`. leptos_meta writes the title into `<head>` as
/// it is, so on the server the text is escaped here: a ticket's title is the seller's text.
/// (In the browser it is set as `document.title`, which is text already.)
pub fn page_title(page: String) -> String {
    let title = if page.is_empty() {
        "Ticketing".to_string()
    } else {
        format!("{page} · Ticketing")
    };
    #[cfg(feature = "ssr")]
    let title = escape_html_text(&title);
    title
}

/// `text` as HTML text content: `&`, `<`, `>` and quotes escaped.
pub fn escape_html_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title formatter=page_title />
        <Router>
            <Layout />
        </Router>
    }
}

/// A page whose code the browser loads when it is first visited: a wasm chunk of its own
/// (`#[lazy_route]`), split out of the main module at build time. The server renders it as any
/// other page.
macro_rules! lazy_pages {
    ($($route:ident => $module:ident :: $page:ident),* $(,)?) => {$(
        struct $route;

        #[leptos_router::lazy_route]
        impl leptos_router::LazyRoute for $route {
            fn data() -> Self {
                #[cfg(feature = "ssr")]
                crate::ssr::split_manifest::prefetch(stringify!($route));
                $route
            }

            fn view(this: Self) -> AnyView {
                let $route = this;
                let _ = $route;
                view! { <$module::$page /> }.into_any()
            }
        }
    )*};
}

lazy_pages! {
    EventRoute => events::EventPage,
    BrowseRoute => browse::BrowsePage,
    OrganiseRoute => organise::OrganisePage,
    NewEventRoute => organise::NewEventPage,
    OrganiseEventRoute => organise::OrganiseEventPage,
    MyTicketsRoute => my_tickets::MyTicketsPage,
    NewTicketRoute => new_ticket::NewTicketPage,
    TicketRoute => ticket_page::TicketPage,
    OrdersRoute => orders::OrdersPage,
    OrderRoute => orders::OrderPage,
    SignUpRoute => auth::SignUpPage,
    SignInRoute => auth::SignInPage,
    VerifyRoute => auth::VerifyPage,
    ForgotRoute => auth::ForgotPage,
    ResetRoute => auth::ResetPage,
    AccountRoute => account::AccountPage,
    PayoutsRoute => payouts::PayoutsPage,
    CheckInRoute => check_in::CheckInPage,
    AdminDashboardRoute => admin::AdminDashboard,
    AdminListingsRoute => admin::AdminListings,
    AdminUsersRoute => admin::AdminUsers,
    AdminOrdersRoute => admin::AdminOrders,
    AdminPayoutsRoute => admin::AdminPayouts,
    AdminAuditRoute => admin::AdminAudit,
}

#[component]
fn Layout() -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    let changed = RwSignal::new(0u32);
    let user: UserResource = Resource::new(
        move || (sign_out.version().get(), changed.get()),
        |_| get_current_user(),
    );
    let payment_mode: PaymentModeResource = Resource::new(|| (), |_| get_payment_mode());
    provide_context(payment_mode);
    provide_context(Account {
        user,
        sign_out,
        changed,
    });

    view! {
        <header::Header />
        <main id="main">
            <Routes fallback=not_found::NotFound>
                // The landing page is in the main module: a first visit fetches one file rather than
                // its chunk and the ~120 small chunks it shares with other pages (docs/ARCHITECTURE.md).
                <Route path=path!("/") view=events::CataloguePage ssr=SsrMode::Async />
                <Route path=path!("/events/:slug") view={Lazy::<EventRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/tickets") view={Lazy::<BrowseRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/organise") view={Lazy::<OrganiseRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/organise/new") view={Lazy::<NewEventRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/organise/:id") view={Lazy::<OrganiseEventRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/tickets/mine") view={Lazy::<MyTicketsRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/tickets/new") view={Lazy::<NewTicketRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/tickets/:id") view={Lazy::<TicketRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/orders") view={Lazy::<OrdersRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/orders/:id") view={Lazy::<OrderRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/auth/signup") view={Lazy::<SignUpRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/auth/signin") view={Lazy::<SignInRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/auth/verify") view={Lazy::<VerifyRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/auth/forgot") view={Lazy::<ForgotRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/auth/reset") view={Lazy::<ResetRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/account") view={Lazy::<AccountRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/payouts") view={Lazy::<PayoutsRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/check-in") view={Lazy::<CheckInRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/admin") view={Lazy::<AdminDashboardRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/admin/listings") view={Lazy::<AdminListingsRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/admin/users") view={Lazy::<AdminUsersRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/admin/orders") view={Lazy::<AdminOrdersRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/admin/payouts") view={Lazy::<AdminPayoutsRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/admin/audit") view={Lazy::<AdminAuditRoute>::new()} ssr=SsrMode::Async />
            </Routes>
        </main>
        <footer class="site-footer">
            <p>"Ticketing — buy and sell tickets for live events."</p>
        </footer>
    }
}
