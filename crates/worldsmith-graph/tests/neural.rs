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
