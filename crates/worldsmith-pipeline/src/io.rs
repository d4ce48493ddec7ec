//! Reading inputs and writing outputs: JSON Lines read line by line with a message per
//! malformed line; outputs written atomically (temporary file, then rename).

use anyhow::{Context, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically: a reader sees the old file or the new one, never a
/// partial one, and an interrupted write leaves no corrupt output.
///
/// # Errors
///
/// As [`write_atomic_with`].
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |out| out.write_all(bytes).or_else(ignore_broken_pipe).context("cannot write the output"))
}

/// Streams an output to `path` atomically: `write` fills a temporary file beside it, which
/// is renamed into place when `write` succeeds and removed when it fails. `-` streams to
/// standard output.
///
/// # Errors
///
/// `write`'s error, or a message naming the path when a directory, the temporary file or
/// the rename fails (or when writing standard output fails, a closed pipe excepted).
pub fn write_atomic_with<T>(path: &Path, write: impl FnOnce(&mut dyn Write) -> Result<T>) -> Result<T> {
    if path == Path::new("-") {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        let value = write(&mut out)?;
        out.flush().or_else(ignore_broken_pipe).context("cannot write to standard output")?;
        return Ok(value);
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create directory {}", dir.display()))?;
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    remove_stale_temps(path, &name);
    let tmp = path.with_file_name(format!("{}{}", temp_prefix(&name), std::process::id()));
    let file = std::fs::File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let result = write(&mut out).and_then(|value| {
        out.flush().with_context(|| format!("cannot write {}", tmp.display()))?;
        Ok(value)
    });
    drop(out);
    match result {
        Ok(value) => {
            std::fs::rename(&tmp, path).with_context(|| format!("cannot move {} into place", path.display()))?;
            Ok(value)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// The temporary files of an output are `.<name>.tmp-<pid>` beside it.
fn temp_prefix(name: &str) -> String {
    format!(".{name}.tmp-")
}

/// Removes the temporary files a killed run left beside `path`: those of its own name
/// whose process is gone (on Linux, no `/proc/<pid>`; elsewhere, untouched for a day). A
/// run writing the same output at the same time keeps its file.
fn remove_stale_temps(path: &Path, name: &str) {
    let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) => d.to_path_buf(),
        None => std::path::PathBuf::from("."),
    };
    let Ok(entries) = std::fs::read_dir(&dir) else { return };
    let prefix = temp_prefix(name);
    let proc_fs = Path::new("/proc/self").exists();
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name.to_str().and_then(|f| f.strip_prefix(&prefix)) else { continue };
        let Ok(pid) = pid.parse::<u32>() else { continue };
        if pid == std::process::id() {
            continue;
        }
        let stale = if proc_fs {
            !Path::new("/proc").join(pid.to_string()).exists()
        } else {
            entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > std::time::Duration::from_secs(24 * 3600))
        };
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Treats a closed standard output (`worldsmith ... | head`) as success.
///
/// # Errors
///
/// `e` itself when it is anything but a broken pipe.
pub fn ignore_broken_pipe(e: std::io::Error) -> std::io::Result<()> {
    if e.kind() == std::io::ErrorKind::BrokenPipe { Ok(()) } else { Err(e) }
}

/// Serializes items as JSON Lines.
///
/// # Errors
///
/// When an item does not serialize (a map with non-string keys).
pub fn json_lines<T: Serialize>(items: &[T]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for item in items {
        serde_json::to_writer(&mut out, item)?;
        out.push(b'\n');
    }
    Ok(out)
}

/// Pretty JSON with a final newline.
///
/// # Errors
///
/// When the value does not serialize (a map with non-string keys).
pub fn pretty_json<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    let mut out = serde_json::to_vec_pretty(value)?;
    out.push(b'\n');
    Ok(out)
}

/// Parses JSON Lines; blank lines are skipped. Returns the items with their line numbers,
/// and a message per malformed line (`source:line: ...`), so one bad line loses nothing else.
#[must_use]
pub fn parse_jsonl<T: DeserializeOwned>(text: &str, source: &str, what: &str) -> (Vec<(usize, T)>, Vec<String>) {
    let mut items = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<T>(line) {
            Ok(t) => items.push((i + 1, t)),
            Err(e) => errors.push(malformed_line(source, i + 1, what, &e)),
        }
    }
    (items, errors)
}

pub(crate) fn malformed_line(source: &str, line: usize, what: &str, e: &serde_json::Error) -> String {
    format!("{source}:{line}: skipped a malformed {what} line: {e}")
}

/// Reads a JSON Lines file (`-` is standard input) with [`read_jsonl_map`], keeping every
/// item.
///
/// # Errors
///
/// As [`read_jsonl_map`].
pub fn read_jsonl<T: DeserializeOwned + Send>(path: &Path, what: &str) -> Result<(Vec<T>, Vec<String>)> {
    read_jsonl_map(path, what, |t| t)
}

/// Reads a JSON Lines file (`-` is standard input) a block of lines at a time, parsing in
/// parallel and keeping only what `map` makes of each item, so a file larger than memory's
/// comfort (a pool of 100,000 tools is about 1 GB) is never held whole. Items stay in file
/// order; errors are [`parse_jsonl`]'s.
///
/// # Errors
///
/// When the file cannot be opened or read; a malformed line is not an error but a message.
pub fn read_jsonl_map<T, U, F>(path: &Path, what: &str, map: F) -> Result<(Vec<U>, Vec<String>)>
where
    T: DeserializeOwned,
    U: Send,
    F: Fn(T) -> U + Sync,
{
    read_jsonl_spans(path, what, |t, _| map(t))
}

/// Where a line is in its file: its first byte and its length (the line break included), so
/// it can be read again with [`read_spans`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span {
    /// The offset of its first byte.
    pub offset: u64,
    /// Its length in bytes.
    pub len: usize,
}

/// [`read_jsonl_map`], where `map` is also given where each item's line is in the file
/// (meaningless for standard input).
///
/// # Errors
///
/// As [`read_jsonl_map`].
pub fn read_jsonl_spans<T, U, F>(path: &Path, what: &str, map: F) -> Result<(Vec<U>, Vec<String>)>
where
    T: DeserializeOwned,
    U: Send,
    F: Fn(T, Span) -> U + Sync,
{
    use rayon::prelude::*;
    use std::io::BufRead;
    const BLOCK_BYTES: usize = 32 << 20;
    let source = path.display().to_string();
    let mut reader: Box<dyn BufRead> = if path == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        let file = std::fs::File::open(path).with_context(|| format!("cannot read {source}"))?;
        Box::new(std::io::BufReader::with_capacity(1 << 20, file))
    };
    let mut items = Vec::new();
    let mut errors = Vec::new();
    let mut block: Vec<(usize, Span, String)> = Vec::new();
    let mut block_bytes = 0;
    let mut number = 0;
    let mut offset = 0u64;
    let flush = |block: &mut Vec<(usize, Span, String)>, items: &mut Vec<U>, errors: &mut Vec<String>| {
        let parsed: Vec<Result<U, String>> = block
            .par_iter()
            .map(|(n, span, line)| {
                serde_json::from_str::<T>(line)
                    .map(|t| map(t, *span))
                    .map_err(|e| malformed_line(&source, *n, what, &e))
            })
            .collect();
        for p in parsed {
            match p {
                Ok(u) => items.push(u),
                Err(e) => errors.push(e),
            }
        }
        block.clear();
    };
    loop {
        let mut line = String::new();
        let read = reader.read_line(&mut line).with_context(|| format!("cannot read {source}"))?;
        if read == 0 {
            break;
        }
        let span = Span { offset, len: read };
        offset += read as u64;
        number += 1;
        if line.trim().is_empty() {
            continue;
        }
        block_bytes += line.len();
        block.push((number, span, line));
        if block_bytes >= BLOCK_BYTES {
            flush(&mut block, &mut items, &mut errors);
            block_bytes = 0;
        }
    }
    flush(&mut block, &mut items, &mut errors);
    Ok((items, errors))
}

/// Reads the lines at `spans` of the file at `path` again (as [`read_jsonl_spans`] found
/// them), in the order given; sorted spans read the file front to back.
///
/// # Errors
///
/// When the file cannot be read, or has changed so that a span is not valid UTF-8.
pub fn read_spans(path: &Path, spans: &[Span]) -> Result<Vec<String>> {
    use std::io::{Read, Seek, SeekFrom};
    let source = path.display().to_string();
    let mut file = std::fs::File::open(path).with_context(|| format!("cannot read {source}"))?;
    let mut lines = Vec::with_capacity(spans.len());
    for span in spans {
        let mut bytes = vec![0; span.len];
        file.seek(SeekFrom::Start(span.offset))
            .and_then(|_| file.read_exact(&mut bytes))
            .with_context(|| format!("cannot read {source} again (did it change?)"))?;
        lines.push(String::from_utf8(bytes).with_context(|| format!("{source} changed while it was read"))?);
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_temp_file_left_by_a_kill_is_removed_by_the_next_write() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("tasks.jsonl");
        // A killed run's file (no process has this id: Linux pids stay below 2^22), another
        // output's file, and a dot file that is no temp file.
        let dead = dir.path().join(".tasks.jsonl.tmp-999999999");
        let other = dir.path().join(".other.jsonl.tmp-999999999");
        let unrelated = dir.path().join(".tasks.jsonl.tmp-notapid");
        for f in [&dead, &other, &unrelated] {
            std::fs::write(f, "partial").unwrap();
        }
        let ours = dir.path().join(format!(".tasks.jsonl.tmp-{}", std::process::id()));
        write_atomic(&out, b"done\n").unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "done\n");
        assert!(!dead.exists(), "the stale temp file is still there");
        assert!(!ours.exists());
        assert!(other.exists() && unrelated.exists(), "files of other outputs were removed");
        #[cfg(target_os = "linux")]
        {
            // A temp file of a process that is alive (pid 1) stays.
            let running = dir.path().join(".tasks.jsonl.tmp-1");
            std::fs::write(&running, "partial").unwrap();
            write_atomic(&out, b"again\n").unwrap();
            assert!(running.exists());
        }
    }

    #[test]
    fn lines_are_read_again_where_they_were_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("items.jsonl");
        std::fs::write(&path, "{\"a\":1}\n\n{\"a\":22}\r\nnot json\n{\"a\":3}").unwrap();
        let (spans, errors) = read_jsonl_spans(&path, "item", |v: serde_json::Value, span| (v, span)).unwrap();
        assert_eq!(errors.len(), 1, "{errors:?}");
        let texts = read_spans(&path, &spans.iter().map(|(_, s)| *s).collect::<Vec<_>>()).unwrap();
        assert_eq!(texts, ["{\"a\":1}\n", "{\"a\":22}\r\n", "{\"a\":3}"]);
        for ((value, _), text) in spans.iter().zip(&texts) {
            assert_eq!(&serde_json::from_str::<serde_json::Value>(text).unwrap(), value);
        }
    }
}
