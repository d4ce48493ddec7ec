//! `worldsmith materialize`: one world per domain in `DIR/<world>/`, with
//! `DIR/materialize_summary.json`, `DIR/materialize_report.jsonl` and a table on stderr.

use super::Outcome;
use crate::cli::MaterializeArgs;
use crate::output::{json_lines, pretty_json, read_jsonl, read_jsonl_map, write_atomic};
use anyhow::{Result, bail};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;
use worldsmith_core::tool::ToolSpec;
use worldsmith_graph::Domain;
use worldsmith_materialize::refine::Refiner;
use worldsmith_materialize::{MaterializeConfig, MaterializeSummary};

pub fn materialize(args: &MaterializeArgs) -> Result<Outcome> {
    if !(0.0..=1.0).contains(&args.pass_rate) {
        bail!("--pass-rate must be between 0 and 1, not {}", args.pass_rate);
    }
    let config = MaterializeConfig {
        records: args.records,
        seed: args.seed,
        min_tools: args.min_tools,
        pass_rate: args.pass_rate,
    };
    let refiner = if args.refine {
        let client = worldsmith_llm::ChatClient::new(super::stages::chat_config(&args.endpoint, "--refine")?);
        Some(Refiner::new(client, args.refine_retries))
    } else {
        None
    };
    let (summary, errors) = materialize_files(&args.tools, &args.domains, &args.out, &config, refiner.as_ref())?;
    for e in errors.iter().take(20) {
        eprintln!("warning: {e}");
    }
    eprint!("{}", table(&summary));
    Ok(if summary.kept == 0 || !errors.is_empty() { Outcome::Problems } else { Outcome::Ok })
}

/// Materializes the domains of `domains` over the pool `tools` into `out`; returns the
/// summary and a message per skipped input line.
pub fn materialize_files(
    tools: &Path,
    domains: &Path,
    out: &Path,
    config: &MaterializeConfig,
    refiner: Option<&Refiner>,
) -> Result<(MaterializeSummary, Vec<String>)> {
    let (domain_lines, mut errors) = read_jsonl::<Domain>(domains, "domain")?;
    // Only the tools of some domain are kept in memory: a pool can be much larger.
    let wanted: BTreeSet<&str> = domain_lines.iter().flat_map(|d| d.tools.iter().map(String::as_str)).collect();
    let (pool, tool_errors) = read_jsonl_map(tools, "tool", |t: ToolSpec| wanted.contains(t.id.as_str()).then_some(t))?;
    errors.extend(tool_errors);
    let pool: Vec<ToolSpec> = pool.into_iter().flatten().collect();
    let bar = super::stages::progress(domain_lines.len(), "domains");
    let (worlds, reports, summary) =
        worldsmith_materialize::materialize(&pool, &domain_lines, config, refiner, &|done| {
            bar.set_position(done as u64)
        });
    bar.finish_and_clear();
    for w in &worlds {
        for (path, text) in &w.files {
            write_atomic(&out.join(&w.name).join(path), text.as_bytes())?;
        }
    }
    write_atomic(&out.join("materialize_report.jsonl"), &json_lines(&reports)?)?;
    write_atomic(&out.join("materialize_summary.json"), &pretty_json(&summary)?)?;
    Ok((summary, errors))
}

/// The summary people read.
pub fn table(s: &MaterializeSummary) -> String {
    let mut t = String::new();
    let attempted = s.domains - s.skipped_small;
    let _ = writeln!(t, "domains          {:>6} ({} skipped as too small)", s.domains, s.skipped_small);
    let _ = writeln!(t, "worlds kept      {:>6} of {attempted}", s.kept);
    for (reason, n) in &s.rejected {
        let _ = writeln!(t, "  rejected       {n:>6} {reason}");
    }
    let _ = writeln!(
        t,
        "tools passing    {:>6} of {} self-checked ({} in generated Starlark)",
        s.tools_passed, s.tools_checked, s.scripted_tools
    );
    if s.refine_asked > 0 {
        let _ = writeln!(
            t,
            "  refined by LLM {:>6} of {} asked ({} requests)",
            s.refine_passed, s.refine_asked, s.refine_requests
        );
    }
    let mut failures: Vec<(&String, &usize)> = s.tool_failures.iter().collect();
    failures.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (reason, n) in failures.iter().take(8) {
        let _ = writeln!(t, "  failing       {n:>6} {reason}");
    }
    t
}
