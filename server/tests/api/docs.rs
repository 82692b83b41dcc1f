//! What the README offers a newcomer builds the site the tests check: the whole of it.

/// The README offers one way to build the site, the script that builds all of it (pages, the
/// live-updates script and the door's scanner); cargo-leptos alone would leave the last two out,
/// and they would 404.
#[test]
fn the_readme_offers_only_builds_that_make_the_whole_site() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    for line in readme.lines() {
        assert!(
            !line.contains("cargo leptos build") && !line.contains("cargo leptos watch"),
            "the README offers a build that leaves part of the site out: {line}"
        );
    }
    for offered in [".ci/serve", ".ci/build-release", ".ci/dev"] {
        assert!(readme.contains(offered), "{offered}");
    }
    let build = std::fs::read_to_string(root.join(".ci/build-release")).unwrap();
    for part in ["live.js", "check-in.js", "scanner"] {
        assert!(build.contains(part), "the build makes {part}");
    }
    for script in ["serve", "dev"] {
        let text = std::fs::read_to_string(root.join(".ci").join(script)).unwrap();
        assert!(
            text.contains(".ci/build-release"),
            "{script} builds the site with it"
        );
    }
}
