//! Two toy front ends, each the least of its kind (see `measure`).

#[cfg(feature = "spa")]
mod spa {
    use leptos::prelude::*;
    use leptos_meta::{Title, provide_meta_context};
    use leptos_router::components::{A, Route, Router, Routes};
    use leptos_router::path;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct Item {
        pub id: String,
        pub title: String,
        pub price: i64,
    }

    #[server]
    pub async fn list_items(q: String) -> Result<Vec<Item>, ServerFnError> {
        let _ = q;
        Ok(vec![])
    }

    #[server]
    pub async fn sign_in(email: String, password: String) -> Result<(), ServerFnError> {
        let _ = (email, password);
        Ok(())
    }

    #[component]
    fn Home() -> impl IntoView {
        let items = Resource::new(|| (), |_| list_items(String::new()));
        view! {
            <Title text="Home" />
            <Suspense fallback=|| "Loading">
                {move || items.get().map(|found| match found {
                    Ok(items) => view! {
                        <ul>
                            {items.into_iter().map(|i| view! {
                                <li><A href=format!("/t/{}", i.id)>{i.title}</A>" "{i.price}</li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <p>{e.to_string()}</p> }.into_any(),
                })}
            </Suspense>
        }
    }

    #[component]
    fn SignInPage() -> impl IntoView {
        let action = ServerAction::<SignIn>::new();
        view! {
            <ActionForm action>
                <input name="email" />
                <input name="password" type="password" />
                <button disabled=move || action.pending().get()>"Sign in"</button>
            </ActionForm>
            {move || action.value().get().and_then(Result::err).map(|e| e.to_string())}
        }
    }

    #[component]
    pub fn App() -> impl IntoView {
        provide_meta_context();
        view! {
            <Router>
                <nav><A href="/">"Home"</A><A href="/signin">"Sign in"</A></nav>
                <main>
                    <Routes fallback=|| "Not found">
                        <Route path=path!("/") view=Home />
                        <Route path=path!("/signin") view=SignInPage />
                    </Routes>
                </main>
            </Router>
        }
    }

    #[wasm_bindgen::prelude::wasm_bindgen]
    pub fn hydrate() {
        leptos::mount::hydrate_body(App);
    }
}

#[cfg(feature = "islands")]
mod islands {
    use leptos::prelude::*;

    /// The one interactive part: a countdown like the order page's.
    #[island]
    pub fn Countdown(millis_left: i64) -> impl IntoView {
        let left = RwSignal::new(millis_left);
        let _ = set_interval_with_handle(
            move || left.update(|l| *l -= 1000),
            std::time::Duration::from_millis(1000),
        );
        view! {
            <span role="timer">
                {move || format!("{}:{:02}", left.get() / 60000, (left.get() / 1000) % 60)}
            </span>
        }
    }

    #[wasm_bindgen::prelude::wasm_bindgen]
    pub fn hydrate() {
        leptos::mount::hydrate_islands();
    }
}
