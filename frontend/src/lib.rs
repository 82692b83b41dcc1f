//! The browser entry point: hydrate the server-rendered page and nothing else.
//!
//! Each page's code is a wasm chunk of its own (lazy routes), so hydration waits for the chunk of
//! the page being shown (the server's `<link rel="preload">` has usually fetched it already).

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Drives the reactive system's futures, and hydration itself, on the browser's event loop.
    let _ = any_spawner::Executor::init_wasm_bindgen();
    leptos::task::spawn_local(async {
        let Some(body) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())
        else {
            return;
        };
        let app = leptos::mount::hydrate_from_async(body.clone(), app::App).await;
        app.forget();
        // Lets end-to-end tests (and curious humans) see that the page is now interactive.
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
