//! A Hugging Face tokenizer directory: `tokenizer.json`, `tokenizer_config.json` (with the
//! `chat_template`), and optionally `chat_template.jinja` and `special_tokens_map.json`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why a tokenizer directory could not be used; every variant names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// A file the directory must have is not there.
    #[error("{}: missing (a Hugging Face tokenizer directory has tokenizer.json and tokenizer_config.json)", .0.display())]
    Missing(PathBuf),
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not the JSON it should be.
    #[error("{}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The directory has no chat template.
    #[error("{}: no chat_template (and no chat_template.jinja beside it)", .0.display())]
    NoTemplate(PathBuf),
    /// The chat template does not compile.
    #[error("{}: the chat template does not compile: {source:#}", path.display())]
    Template {
        /// The file the template came from.
        path: PathBuf,
        /// The compiler's error.
        source: minijinja::Error,
    },
}

/// What the manifest records about a tokenizer directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenizerInfo {
    /// The directory's name (its last path component).
    pub name: String,
    /// BLAKE3 of every file read, by file name.
    pub files: BTreeMap<String, String>,
}

/// The files of a tokenizer directory, read.
#[derive(Debug)]
pub(crate) struct Files {
    pub(crate) info: TokenizerInfo,
    pub(crate) tokenizer_json: Vec<u8>,
    pub(crate) tokenizer_path: PathBuf,
    /// The template source and the file it came from.
    pub(crate) templates: Templates,
    pub(crate) template_path: PathBuf,
    /// Named special tokens (`bos_token`, `eos_token`, ...) as strings.
    pub(crate) special: BTreeMap<String, String>,
}

/// A tokenizer's chat templates: one, or several by name (`default`, `tool_use`, ...).
#[derive(Debug, Clone)]
pub(crate) enum Templates {
    One(String),
    Named(BTreeMap<String, String>),
}

/// The named special tokens `transformers` passes to a template.
const SPECIAL_NAMES: [&str; 7] =
    ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];

pub(crate) fn read(dir: &Path) -> Result<Files, LoadError> {
    let mut files = BTreeMap::new();
    let mut read = |name: &str, required: bool| -> Result<Option<Vec<u8>>, LoadError> {
        let path = dir.join(name);
        match std::fs::read(&path) {
            Ok(bytes) => {
                files.insert(name.to_owned(), blake3::hash(&bytes).to_hex().to_string());
                Ok(Some(bytes))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if required {
                    Err(LoadError::Missing(path))
                } else {
                    Ok(None)
                }
            }
            Err(source) => Err(LoadError::Read { path, source }),
        }
    };
    let tokenizer_json = read("tokenizer.json", true)?.unwrap_or_default();
    let config_bytes = read("tokenizer_config.json", true)?.unwrap_or_default();
    let jinja = read("chat_template.jinja", false)?;
    let special_map = read("special_tokens_map.json", false)?;
    let config_path = dir.join("tokenizer_config.json");
    let config: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&config_bytes)
        .map_err(|e| LoadError::Invalid { path: config_path.clone(), message: e.to_string() })?;
    let (templates, template_path) = if let Some(jinja) = jinja {
        let path = dir.join("chat_template.jinja");
        let text =
            String::from_utf8(jinja).map_err(|e| LoadError::Invalid { path: path.clone(), message: e.to_string() })?;
        (Templates::One(text), path)
    } else {
        let templates = match config.get("chat_template") {
            Some(serde_json::Value::String(s)) => Templates::One(s.clone()),
            Some(serde_json::Value::Array(items)) => {
                let mut named = BTreeMap::new();
                for item in items {
                    let (Some(name), Some(template)) =
                        (item.get("name").and_then(|v| v.as_str()), item.get("template").and_then(|v| v.as_str()))
                    else {
                        return Err(LoadError::Invalid {
                            path: config_path,
                            message: "chat_template: a list entry without a name and a template".to_owned(),
                        });
                    };
                    named.insert(name.to_owned(), template.to_owned());
                }
                Templates::Named(named)
            }
            _ => return Err(LoadError::NoTemplate(config_path)),
        };
        (templates, config_path.clone())
    };
    let mut special = BTreeMap::new();
    for name in SPECIAL_NAMES {
        if let Some(token) = config.get(name).and_then(token_text) {
            special.insert(name.to_owned(), token);
        }
    }
    if let Some(bytes) = special_map {
        let path = dir.join("special_tokens_map.json");
        let map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&bytes).map_err(|e| LoadError::Invalid { path, message: e.to_string() })?;
        for name in SPECIAL_NAMES {
            if let Some(token) = map.get(name).and_then(token_text) {
                special.insert(name.to_owned(), token);
            }
        }
    }
    let name = dir
        .canonicalize()
        .ok()
        .as_deref()
        .unwrap_or(dir)
        .file_name()
        .map_or_else(|| "tokenizer".to_owned(), |n| n.to_string_lossy().into_owned());
    Ok(Files {
        info: TokenizerInfo { name, files },
        tokenizer_json,
        tokenizer_path: dir.join("tokenizer.json"),
        templates,
        template_path,
        special,
    })
}

/// A special token as a string: `"<s>"` or an `AddedToken` object's `content`.
fn token_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Object(map) => map.get("content").and_then(|c| c.as_str()).map(str::to_owned),
        _ => None,
    }
}
