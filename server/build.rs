//! With the `embed` feature, packs the built site (`target/site`: wasm, JS, CSS, favicon) into the
//! binary, each file with gzip and brotli twins made once here instead of on every request.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    pack_relative_relocations();
    println!("cargo:rerun-if-env-changed=CARGO_FEATURE_EMBED");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let table = out_dir.join("embedded_assets.rs");
    if std::env::var_os("CARGO_FEATURE_EMBED").is_none() {
        std::fs::write(
            &table,
            "pub static ASSETS: &[Asset] = &[];\npub static BUNDLE_HASH: &str = \"\";\n",
        )
        .expect("write asset table");
        return;
    }
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let site = std::env::var_os("TICKETING_SITE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../target/site"));
    println!("cargo:rerun-if-env-changed=TICKETING_SITE_DIR");
    println!("cargo:rerun-if-changed={}", site.display());
    for required in ["pkg/ticketing.js", "pkg/ticketing.css"] {
        if !site.join(required).is_file() {
            panic!(
                "the `embed` feature needs the built site, but {} is missing: build the front end first \
                 (.ci/build-release, or `cargo leptos build --release`)",
                site.join(required).display()
            );
        }
    }
    let mut files = Vec::new();
    collect(&site, &mut files);
    files.sort();
    let packed = out_dir.join("assets");
    std::fs::create_dir_all(&packed).expect("create asset folder");
    let mut code = String::from("pub static ASSETS: &[Asset] = &[\n");
    for (index, file) in files.iter().enumerate() {
        let bytes = std::fs::read(file).expect("read site file");
        let rel = file
            .strip_prefix(&site)
            .expect("inside site")
            .to_string_lossy()
            .replace('\\', "/");
        let content_type = content_type(&rel);
        let compressible =
            !content_type.starts_with("image/") || content_type.starts_with("image/svg");
        let mut twins = [String::from("None"), String::from("None")];
        if compressible && bytes.len() > 256 {
            for (slot, (ext, data)) in [("gz", gzip(&bytes)), ("br", brotli(&bytes))]
                .into_iter()
                .enumerate()
            {
                if data.len() < bytes.len() {
                    let path = packed.join(format!("{index}.{ext}"));
                    std::fs::write(&path, &data).expect("write compressed asset");
                    twins[slot] = format!("Some(include_bytes!({:?}))", path.display().to_string());
                }
            }
        }
        let etag = format!("\"{:016x}\"", fnv1a(&bytes));
        writeln!(
            code,
            "    Asset {{ path: {:?}, content_type: {:?}, etag: {:?}, raw: include_bytes!({:?}), gzip: {}, brotli: {} }},",
            format!("/{rel}"),
            content_type,
            etag,
            file.display().to_string(),
            twins[0],
            twins[1]
        )
        .expect("format");
    }
    code.push_str("];\n");
    // The front end is served from a folder named by a hash of everything in it (names and
    // contents), so its files keep their names (the JS glue, its wasm and the scripts they
    // import find each other by relative paths) and a new build is a new folder.
    let bundle = files
        .iter()
        .filter(|file| file.starts_with(site.join("pkg")))
        .fold(FNV_OFFSET, |hash, file| {
            let name = file
                .strip_prefix(&site)
                .expect("inside site")
                .to_string_lossy();
            let hash = fnv1a_from(hash, name.as_bytes());
            fnv1a_from(hash, &std::fs::read(file).expect("read site file"))
        });
    writeln!(code, "pub static BUNDLE_HASH: &str = \"{bundle:016x}\";").expect("format");
    std::fs::write(&table, code).expect("write asset table");
}

/// The binary is position-independent, so at every start the loader rewrites some 116,000
/// pointers, listed in a 2.7 MB table that it reads from the file and that then stays in memory.
/// Packed (`DT_RELR`: binutils 2.38 and glibc 2.36 on) the table takes 33 KB. The flag is passed
/// only where a program linked with it builds and runs, so older systems build as before.
fn pack_relative_relocations() {
    const FLAG: &str = "-Wl,-z,pack-relative-relocs";
    let target = std::env::var("TARGET").unwrap_or_default();
    if !target.ends_with("-linux-gnu") || std::env::var("HOST").ok() != Some(target) {
        return;
    }
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let source = out_dir.join("relr_probe.c");
    let probe = out_dir.join("relr_probe");
    if std::fs::write(&source, "int main(void) { return 0; }\n").is_err() {
        return;
    }
    let linker = std::env::var("RUSTC_LINKER").unwrap_or_else(|_| "cc".to_string());
    let succeeds = |command: &mut std::process::Command| {
        command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    };
    if succeeds(
        std::process::Command::new(linker)
            .args(["-fPIE", "-pie", FLAG, "-o"])
            .arg(&probe)
            .arg(&source),
    ) && succeeds(&mut std::process::Command::new(&probe))
    {
        println!("cargo:rustc-link-arg-bins={FLAG}");
    }
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read site folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else if !matches!(path.extension().and_then(|e| e.to_str()), Some("gz" | "br")) {
            files.push(path);
        }
    }
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "json" | "webmanifest" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).expect("brotli");
    out
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv1a(bytes: &[u8]) -> u64 {
    fnv1a_from(FNV_OFFSET, bytes)
}

fn fnv1a_from(start: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(start, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}
