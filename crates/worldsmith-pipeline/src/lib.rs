//! worldsmith's pipeline as a library: the stages as file-to-file functions, and everything
//! around them that the command line, the server and the Python binding share.
//!
//! - [`io`]: JSON Lines read line by line with a message per malformed line (and where
//!   each line is, to read it again), outputs written atomically (a temporary file renamed
//!   into place; stale ones of killed runs removed);
//! - [`worlds`]: resolving a world argument (a bundled name or a directory, with a
//!   "did you mean" hint) and a cache of loaded worlds;
//! - [`replay`]: world checks and gold-task replays, and the check report people read;
//! - [`stages`]: `graph_files`, `materialize_files`, `rollout_file`, `verify_files`,
//!   `export_sft_files`, `eval_files`, each returning its counts and the inputs it skipped;
//! - [`prm`]: `prm build`, `prm eval` and `prm search` over files;
//! - [`run`]: the main job over all stages in one directory, with resume keys, the
//!   report and every stage's time (`timings.json`);
//! - [`tables`] and [`charts`]: the summaries and SVG charts people read;
//! - [`progress`]: how long stages report (the caller draws the bars; [`progress::Quiet`]
//!   drops them).
//!
//! ```no_run
//! use worldsmith_pipeline::progress::Quiet;
//! use worldsmith_pipeline::run::{RunConfig, run};
//!
//! let config = RunConfig {
//!     out: "out".into(),
//!     seed: 0,
//!     per_world: 5,
//!     trials: 2,
//!     worlds: vec!["retail".to_owned()],
//!     fresh: false,
//!     tools: None,
//! };
//! let outcome = run(&config, &Quiet)?;
//! assert!(outcome.passed, "{:?}", outcome.failures);
//! # Ok::<(), anyhow::Error>(())
//! ```

pub mod charts;
pub mod grpo;
pub mod io;
pub mod prm;
pub mod progress;
pub mod replay;
pub mod run;
pub mod stages;
pub mod tables;
pub mod worlds;
