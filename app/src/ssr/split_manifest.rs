//! Which wasm chunks each lazily loaded page needs, so that the server can name them in the
//! page's `<head>` (`<link rel="preload">`) and the browser fetches them alongside the main
//! module instead of after it. Leptos reads this manifest from the site folder on disk; the one
//! binary carries its site inside itself, so the server hands it over at start.

use leptos::prelude::*;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The loader script's name as the build writes it (the folder it sits in is content-hashed).
const LOADER: &str = "__wasm_split.______________________.js";

static MANIFEST: OnceLock<HashMap<String, Vec<String>>> = OnceLock::new();

/// Takes the build's `__wasm_split_manifest.json` (split name → the chunks it needs).
pub fn set(json: &str) -> Result<(), serde_json::Error> {
    let manifest = serde_json::from_str(json)?;
    let _ = MANIFEST.set(manifest);
    Ok(())
}

/// Where the chunks are served from, for the page being rendered.
#[derive(Clone)]
struct PkgDir(std::sync::Arc<str>);

/// Makes the chunks' folder (`/{pkg_dir}`) known to the page being rendered, for [`prefetch`].
pub fn provide(pkg_dir: &str) {
    if MANIFEST.get().is_some() {
        provide_context(PkgDir(std::sync::Arc::from(format!("/{pkg_dir}"))));
    }
}

/// Names the chunks of the lazily loaded page `route` (the route type's name, `BrowseRoute`)
/// in the `<head>` of the page being rendered.
///
/// Leptos can name them itself (given its `WasmSplitManifest` in the context) when the page's
/// code runs during the render, but only into a set it provides after the render has begun:
/// whether the route had already been matched by then is a matter of timing between threads,
/// and a render that lost the race (often the first after a start, then kept for a second
/// for every visitor) named none. So the manifest is not handed to Leptos, and each route
/// names its chunks here, from its data step, straight into the `<head>` (the meta context,
/// there from the start of the render), exactly as Leptos would have.
pub fn prefetch(route: &str) {
    use leptos_meta::Link;
    let (Some(manifest), Some(name)) = (MANIFEST.get(), split_name(route)) else {
        return;
    };
    let Some(PkgDir(pkg)) = use_context::<PkgDir>() else {
        return;
    };
    let nonce = use_nonce().map(|n| n.to_string()).unwrap_or_default();
    for module in manifest.get(name).into_iter().flatten() {
        // `to_html` on a `leptos_meta` element registers it with the page's `<head>`.
        let _ = view! {
            <Link
                rel="preload"
                href=format!("{pkg}/{module}.wasm")
                as_="fetch"
                type_="application/wasm"
                crossorigin=nonce.clone()
            />
        }
        .to_html();
    }
    let _ = view! { <Link rel="modulepreload" href=format!("{pkg}/{LOADER}") crossorigin=nonce /> }
        .to_html();
}

/// The manifest's name for `route`'s page code: `#[lazy_route]` makes a function
/// `__{Route}_View`, which `#[lazy]` names in snake case with a hash of where it was written
/// (`__browse_route_view_1234…`).
fn split_name(route: &str) -> Option<&'static str> {
    static NAMES: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        MANIFEST
            .get()
            .map(|manifest| by_view_name(manifest.keys().map(String::as_str)))
            .unwrap_or_default()
    });
    names.get(&view_name(route)).copied()
}

/// Each split name by its name without the hash and the leading underscores.
fn by_view_name<'a>(keys: impl Iterator<Item = &'a str>) -> HashMap<String, &'a str> {
    keys.filter_map(|key| {
        let (name, hash) = key.rsplit_once('_')?;
        (!hash.is_empty() && hash.bytes().all(|b| b.is_ascii_digit()))
            .then(|| (name.trim_start_matches('_').to_string(), key))
    })
    .collect()
}

/// `BrowseRoute` → `browse_route_view`.
fn view_name(route: &str) -> String {
    let mut name = String::with_capacity(route.len() + 8);
    for c in route.chars() {
        if c.is_ascii_uppercase() && !name.is_empty() {
            name.push('_');
        }
        name.push(c.to_ascii_lowercase());
    }
    name.push_str("_view");
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_finds_its_split_by_name_whatever_the_hash() {
        let keys = [
            "__browse_route_view_1234567890",
            "check_in_route_view_42",
            "browse_route_view_extra",
            "__wasm_split",
        ];
        let names = by_view_name(keys.into_iter());
        assert_eq!(
            names.get(&view_name("BrowseRoute")).copied(),
            Some("__browse_route_view_1234567890")
        );
        assert_eq!(
            names.get(&view_name("CheckInRoute")).copied(),
            Some("check_in_route_view_42")
        );
        assert_eq!(names.get(&view_name("TicketRoute")), None);
        assert_eq!(names.len(), 2, "{names:?}");
    }
}
