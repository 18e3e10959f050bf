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
