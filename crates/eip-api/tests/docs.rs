//! Keeps the documents generated from (or promised by) the wire crate true.

use std::path::PathBuf;

fn doc(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs").join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn api_coverage_matches_the_registry() {
    assert_eq!(
        doc("api-coverage.md"),
        eip_api::catalog::coverage_markdown(),
        "docs/api-coverage.md is stale: run `eipd api-coverage > docs/api-coverage.md`"
    );
}

#[test]
fn every_error_code_is_documented() {
    let text = doc("errors.md");
    for code in eip_api::errors::ALL_CODES {
        assert!(text.contains(&format!("`{code}`")), "docs/errors.md lacks `{code}`");
    }
}

/// The workspace's `rust-version` is what the code needs: let-chains
/// (`if let … && let …`, stable in 1.88) are used throughout, and clippy's
/// `incompatible_msrv` checks library APIs against the same number.
#[test]
fn rust_version_covers_let_chains() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let version = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("the workspace sets rust-version");
    let minor: u32 = version.split('.').nth(1).and_then(|m| m.parse().ok()).expect("a 1.N version");
    let uses_let_chains =
        std::fs::read_to_string(root.join("crates/eip-controller/src/lib.rs")).unwrap().contains("&& let ");
    assert!(uses_let_chains, "the check below assumes let-chains are in use");
    assert!(minor >= 88, "rust-version {version} is below 1.88, which let-chains need");
    for krate in std::fs::read_dir(root.join("crates")).unwrap() {
        let toml = std::fs::read_to_string(krate.unwrap().path().join("Cargo.toml")).unwrap();
        assert!(toml.contains("rust-version.workspace = true"), "every crate inherits the workspace's rust-version");
    }
}
