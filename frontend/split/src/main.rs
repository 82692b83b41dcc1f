//! `wasm-split <input.wasm> <pkg dir> <main out.wasm> <output name>`
//!
//! Splits the front end's wasm (linked with `--emit-relocs`) at its `#[lazy]` functions, as
//! `cargo leptos build --split` does: the chunks (`split_*.wasm`, `chunk_*.wasm`), their loader
//! (`__wasm_split.______________________.js`, the name Leptos's server expects) and the manifest
//! of which chunks each split needs (`__wasm_split_manifest.json`) go into the pkg folder; the
//! main module goes to `main out.wasm`, for wasm-bindgen. Prints the chunks, one per line, for
//! wasm-opt.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, pkg, main_out, output_name] = args.as_slice() else {
        eprintln!("usage: wasm-split <input.wasm> <pkg dir> <main out.wasm> <output name>");
        return ExitCode::from(2);
    };
    match split(input, Path::new(pkg), Path::new(main_out), output_name) {
        Ok(chunks) => {
            for chunk in chunks {
                println!("{}", chunk.display());
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("wasm-split: {err}");
            ExitCode::FAILURE
        }
    }
}

fn split(
    input: &str,
    pkg: &Path,
    main_out: &Path,
    output_name: &str,
) -> Result<Vec<std::path::PathBuf>, String> {
    let wasm = std::fs::read(input).map_err(|e| format!("{input}: {e}"))?;
    let main_module = format!("./{output_name}.js");
    let mut options = wasm_split_cli_support::Options::new(&wasm);
    options.output_dir = pkg;
    options.main_out_path = main_out;
    options.main_module = &main_module;
    options.link_name = "./__wasm_split.______________________.js";
    let split = wasm_split_cli_support::transform(options).map_err(|e| format!("{e:?}"))?;
    // In one order every time (the map comes unordered): a build with nothing changed writes the
    // same bytes, and so leaves the site, and the server that embeds it, as they are.
    let ordered: std::collections::BTreeMap<&String, Vec<&String>> = split
        .prefetch_map
        .iter()
        .map(|(split, chunks)| {
            let mut chunks: Vec<&String> = chunks.iter().collect();
            chunks.sort();
            (split, chunks)
        })
        .collect();
    let manifest = serde_json::to_string_pretty(&ordered).map_err(|e| e.to_string())?;
    std::fs::write(pkg.join("__wasm_split_manifest.json"), manifest)
        .map_err(|e| format!("writing the manifest: {e}"))?;
    Ok(split.split_modules)
}
