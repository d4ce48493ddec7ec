//! The MiniLM embedder on the real model (feature `neural`). The model directory comes from
//! `WORLDSMITH_MINILM_DIR`, else `.cache/minilm` at the repository root
//! (`scripts/fetch-minilm.sh`); without it the tests say so and pass.
#![cfg(feature = "neural")]

use std::path::PathBuf;
use worldsmith_graph::neural::NeuralEmbedder;

fn model() -> Option<NeuralEmbedder> {
    let dir = std::env::var_os("WORLDSMITH_MINILM_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.cache/minilm"));
    if !dir.join("model.safetensors").is_file() {
        eprintln!("skipped: no MiniLM model in {} (run scripts/fetch-minilm.sh)", dir.display());
        return None;
    }
    Some(NeuralEmbedder::load(&dir).expect("the model loads"))
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
