//! The MiniLM embedder on the real model (feature `neural`). The model directory comes from
//! `WORLDSMITH_MINILM_DIR`, else `.cache/minilm` at the repository root
//! (`scripts/fetch-minilm.sh`); without it the tests say so and pass.
#![cfg(feature = "neural")]
// Tests may unwrap and report on the terminal (the library-code lints of the workspace).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use worldsmith_graph::neural::NeuralEmbedder;

/// Whether this is CI (`CI=true`), where the model and Python must be there.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn model_dir() -> PathBuf {
    std::env::var_os("WORLDSMITH_MINILM_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.cache/minilm"))
}

/// The model, or `None` (with a message) when it is not there; under CI it must be.
fn model() -> Option<NeuralEmbedder> {
    let dir = model_dir();
    if !dir.join("model.safetensors").is_file() {
        assert!(
            std::env::var("CI").is_err(),
            "no MiniLM model in {} under CI (scripts/fetch-minilm.sh)",
            dir.display()
        );
        eprintln!("skipped: no MiniLM model in {} (run scripts/fetch-minilm.sh)", dir.display());
        return None;
    }
    Some(NeuralEmbedder::load(&dir).expect("the model loads"))
}

/// A Python with numpy (a virtual environment made once in the target directory).
fn python_with_numpy() -> Result<PathBuf, String> {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("py-numpy");
    let python = venv.join("bin").join("python");
    let has_numpy = |p: &Path| Command::new(p).args(["-c", "import numpy"]).output().is_ok_and(|o| o.status.success());
    if has_numpy(&python) {
        return Ok(python);
    }
    let created = Command::new("python3").args(["-m", "venv"]).arg(&venv).output().map_err(|e| e.to_string())?;
    if !created.status.success() {
        return Err(format!("python3 -m venv failed: {}", String::from_utf8_lossy(&created.stderr)));
    }
    let pip =
        Command::new(&python).args(["-m", "pip", "install", "--quiet", "numpy"]).output().map_err(|e| e.to_string())?;
    if pip.status.success() && has_numpy(&python) {
        Ok(python)
    } else {
        Err(format!("pip install numpy failed: {}", String::from_utf8_lossy(&pip.stderr)))
    }
}

#[test]
fn vectors_equal_an_independent_numpy_implementation() {
    let Some(model) = model() else { return };
    let python = match python_with_numpy() {
        Ok(p) => p,
        Err(e) if !in_ci() => {
            eprintln!("skipped: {e}");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let texts = ["pet id name status", "List the orders of a customer, newest first.", "x"];
    let ids: Vec<Vec<u32>> = texts.iter().map(|t| model.token_ids(t).unwrap()).collect();
    let mut child = Command::new(python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/minilm_oracle.py"))
        .arg(model_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for i in &ids {
        writeln!(stdin, "{}", serde_json::to_string(i).unwrap()).unwrap();
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let expected: Vec<Vec<f64>> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let got = model.embed(&texts, &|_| {}).unwrap();
    assert_eq!(expected.len(), texts.len());
    for (g, e) in got.iter().zip(&expected) {
        let worst = g.iter().zip(e).map(|(a, b)| (f64::from(*a) - b).abs()).fold(0.0, f64::max);
        assert!(worst < 1e-4, "largest difference {worst}");
    }
}

fn cos(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn paraphrases_are_closer_than_unrelated_texts_and_vectors_are_unit_length() {
    let Some(model) = model() else { return };
    let texts = [
        "cancel an order that has not shipped yet",
        "abort a pending purchase before it is delivered",
        "today's weather forecast for a city",
        "order id reason",
    ];
    let v = model.embed(&texts, &|_| {}).unwrap();
    assert_eq!(v.len(), 4);
    for x in &v {
        assert_eq!(x.len(), 384);
        assert!((cos(x, x) - 1.0).abs() < 1e-4);
    }
    assert!(cos(&v[0], &v[1]) > cos(&v[0], &v[2]) + 0.2, "{} vs {}", cos(&v[0], &v[1]), cos(&v[0], &v[2]));
    assert!(cos(&v[0], &v[3]) > cos(&v[2], &v[3]));
}

#[test]
fn a_text_gets_the_same_vector_alone_or_in_a_padded_batch() {
    let Some(model) = model() else { return };
    let long = "list the payment methods of a customer account with their billing addresses and expiry dates";
    let alone = model.embed(&["pet name"], &|_| {}).unwrap();
    let batch = model.embed(&[long, "pet name", long], &|_| {}).unwrap();
    assert!(alone[0].iter().zip(&batch[1]).all(|(a, b)| (a - b).abs() < 1e-5));
    assert_eq!(batch[0], batch[2]);
    assert_eq!(model.embed(&[long, "pet name", long], &|_| {}).unwrap(), batch);
}

#[test]
fn a_missing_model_directory_is_named_in_the_error() {
    let err = NeuralEmbedder::load(std::path::Path::new("/nonexistent/minilm")).err().unwrap().to_string();
    assert!(err.contains("/nonexistent/minilm/config.json") && err.contains("fetch-minilm.sh"), "{err}");
}

#[test]
fn texts_that_tokenize_alike_get_one_vector_bit_for_bit() {
    let Some(model) = model() else { return };
    // The model is uncased: these two read as the same tokens.
    let texts = ["Pet ID status", "pet id status", "order id", "pet id status"];
    assert_eq!(model.token_ids(texts[0]).unwrap(), model.token_ids(texts[1]).unwrap());
    let counts = std::sync::Mutex::new(Vec::new());
    let v = model.embed(&texts, &|done| counts.lock().unwrap().push(done)).unwrap();
    assert_eq!(v[0], v[1]);
    assert_eq!(v[1], v[3]);
    assert_ne!(v[0], v[2]);
    // Progress counts texts, copies included.
    assert_eq!(counts.lock().unwrap().iter().max(), Some(&4));
}

#[test]
fn a_token_cap_cuts_long_texts_and_is_checked() {
    let Some(model) = model() else { return };
    let long = "order ".repeat(300);
    assert_eq!(model.token_ids(&long).unwrap().len(), 256);
    let dir = model_dir();
    let short = NeuralEmbedder::load(&dir).unwrap().with_max_tokens(16).unwrap();
    let ids = short.token_ids(&long).unwrap();
    assert_eq!(ids.len(), 16);
    // `[CLS]` first and `[SEP]` last, as the model was trained.
    assert_eq!((ids[0], ids[15]), (101, 102));
    // A text within the cap is embedded as before.
    let within = "pet id name status";
    let a = model.embed(&[within], &|_| {}).unwrap();
    let b = short.embed(&[within], &|_| {}).unwrap();
    assert!(a[0].iter().zip(&b[0]).all(|(x, y)| (x - y).abs() < 1e-6));
    for bad in [0, 2, 513] {
        let err = NeuralEmbedder::load(&dir).unwrap().with_max_tokens(bad).err().unwrap().to_string();
        assert!(err.contains(&format!("max tokens {bad}")) && err.contains("512"), "{err}");
    }
}

#[test]
fn minilm_domains_through_hnsw_equal_the_exact_search_and_repeat() {
    use worldsmith_graph::knn::{DenseMethod, DenseSearch, HnswConfig};
    use worldsmith_graph::{GraphConfig, Similarity, ToolProfile, discover};
    let Some(model) = model() else { return };
    // Two bundled worlds' tools, each world a provider, twice (a second copy of every tool
    // shares its text, so it shares its vector). Two worlds keep the debug build's forward
    // passes to seconds.
    let mut tools = Vec::new();
    for copy in ["a", "b"] {
        for name in worldsmith_worlds::default_names().take(2) {
            let world = worldsmith_worlds::load(name).unwrap().unwrap();
            for t in world.tools() {
                let spec: worldsmith_core::tool::ToolSpec = serde_json::from_value(serde_json::json!({
                    "id": format!("{copy}/{name}/{}", t.name()), "name": t.name(), "description": t.description(),
                    "parameters": t.parameters(), "response": null,
                    "provenance": {"source": name, "provider": name, "categories": [name]}
                }))
                .unwrap();
                tools.push(ToolProfile::of(&spec));
            }
        }
    }
    let texts: Vec<&str> = tools.iter().map(|t| t.text.as_str()).collect();
    let vectors = model.embed(&texts, &|_| {}).unwrap();
    let config = GraphConfig { threshold: 0.7, ..GraphConfig::default() };
    let run =
        |search| discover(&tools, &config, Similarity::Dense { name: "minilm", vectors: &vectors, search }, &|_| {});
    let (exact, exact_summary) = run(DenseSearch::Exact);
    let (approx, summary) = run(DenseSearch::Hnsw(HnswConfig::default()));
    let stats = summary.dense_search.clone().unwrap();
    assert_eq!(stats.method, DenseMethod::Hnsw);
    assert!(stats.distinct_vectors <= tools.len() / 2, "{stats:?}");
    assert!((stats.recall - 1.0).abs() < f64::EPSILON, "{stats:?}");
    assert_eq!(exact_summary.dense_search.unwrap().method, DenseMethod::Exact);
    assert_eq!(serde_json::to_string(&approx).unwrap(), serde_json::to_string(&exact).unwrap());
    assert_eq!(summary.similarity_edges, exact_summary.similarity_edges);
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let again = one.install(|| run(DenseSearch::Hnsw(HnswConfig::default())));
    assert_eq!(serde_json::to_string(&again.0).unwrap(), serde_json::to_string(&approx).unwrap());
}
