//! Where a world's files come from: a directory, or memory (the bundled worlds).
//!
//! Loading a world reads files only through [`WorldFiles`], so the engine's execution core
//! does no I/O and tests can load worlds from memory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Read access to a world's files by path relative to the world's root (`world.json`,
/// `tools/refund.star`, `data/orders.json`).
pub trait WorldFiles {
    /// A name for messages: the directory, or `bundled:<name>`.
    fn label(&self) -> String;
    /// The text of one file.
    ///
    /// # Errors
    /// A message saying why the file cannot be read.
    fn read(&self, path: &str) -> Result<String, String>;
}

/// A world in a directory.
#[derive(Debug, Clone)]
pub struct DirFiles {
    root: PathBuf,
}

impl DirFiles {
    /// The world whose `world.json` is in `root`.
    pub fn new(root: impl Into<PathBuf>) -> DirFiles {
        DirFiles { root: root.into() }
    }

    /// The directory.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl WorldFiles for DirFiles {
    fn label(&self) -> String {
        self.root.display().to_string()
    }

    fn read(&self, path: &str) -> Result<String, String> {
        let full = self.root.join(path);
        std::fs::read_to_string(&full).map_err(|e| format!("cannot read {}: {e}", full.display()))
    }
}

/// A world held in memory: path -> text, optionally backed by a directory for paths that are
/// not in memory (a bundled world whose data lives on disk).
#[derive(Debug, Clone, Default)]
pub struct MemFiles {
    label: String,
    files: BTreeMap<String, String>,
    disk_root: Option<PathBuf>,
}

impl MemFiles {
    /// An in-memory world named `label` in messages.
    pub fn new(label: impl Into<String>) -> MemFiles {
        MemFiles { label: label.into(), files: BTreeMap::new(), disk_root: None }
    }

    /// Adds (or replaces) a file.
    #[must_use]
    pub fn with(mut self, path: impl Into<String>, text: impl Into<String>) -> MemFiles {
        self.files.insert(path.into(), text.into());
        self
    }

    /// Reads paths that are not in memory from `root` (relative paths resolve against it).
    #[must_use]
    pub fn with_disk_root(mut self, root: impl Into<PathBuf>) -> MemFiles {
        self.disk_root = Some(root.into());
        self
    }

    /// Adds (or replaces) a file in place.
    pub fn insert(&mut self, path: impl Into<String>, text: impl Into<String>) {
        self.files.insert(path.into(), text.into());
    }
}

impl WorldFiles for MemFiles {
    fn label(&self) -> String {
        self.label.clone()
    }

    fn read(&self, path: &str) -> Result<String, String> {
        if let Some(text) = self.files.get(path) {
            return Ok(text.clone());
        }
        match &self.disk_root {
            Some(root) => DirFiles::new(root).read(path),
            None => Err(format!("{}: no file {path}", self.label)),
        }
    }
}
