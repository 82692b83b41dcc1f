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

/// Makes the manifest known to the page being rendered, with the chunks under `/{pkg_dir}`.
/// Built once and shared by every render (Leptos only reads it).
pub fn provide(pkg_dir: &str) {
    static SHARED: OnceLock<(String, leptos::WasmSplitManifest)> = OnceLock::new();
    let Some(manifest) = MANIFEST.get() else {
        return;
    };
    let build = || {
        leptos::WasmSplitManifest(ArcStoredValue::new((
            format!("/{pkg_dir}"),
            manifest.clone(),
            LOADER.to_string(),
        )))
    };
    let (shared_dir, shared) = SHARED.get_or_init(|| (pkg_dir.to_string(), build()));
    provide_context(if shared_dir == pkg_dir {
        shared.clone()
    } else {
        build()
    });
}
