//! The summaries people read, as text: printed by the command line after each stage and
//! quoted in the main job's `report.md`.

use std::fmt::Write as _;
use worldsmith_export::SftStats;
use worldsmith_graph::GraphSummary;
use worldsmith_materialize::MaterializeSummary;
use worldsmith_rollout::RolloutStats;
use worldsmith_synth::SynthStats;
use worldsmith_verify::{Metrics, VerifyStats};

/// The summary people read: one row per world, then the rejection reasons.
#[must_use]
pub fn synth_table(stats: &SynthStats) -> String {
    let mut s = String::new();
    let kinds = worldsmith_synth::TaskKind::ALL;
    let _ = writeln!(
        s,
        "{:<16} {:>6} {:>9} {:>6} {:>6} {:>6} {:>9} {:>9}",
        "world", "edges", "attempts", "tasks", "write", "read", "multi_hop", "rejected"
    );
    let row =
        |s: &mut String, name: &str, edges: String, attempts: usize, accepted: usize, k: &[usize], rejected: usize| {
            let _ = writeln!(
                s,
                "{name:<16} {edges:>6} {attempts:>9} {accepted:>6} {:>6} {:>6} {:>9} {rejected:>9}",
                k[0], k[1], k[2]
            );
        };
    let mut attempts = 0;
    for w in &stats.worlds {
        let k: Vec<usize> = kinds.iter().map(|k| w.kinds.get(*k)).collect();
        let edges = match w.edge_source {
            Some(worldsmith_synth::EdgeSource::DataFlow) => format!("{}*", w.edges),
            _ => w.edges.to_string(),
        };
        row(&mut s, &w.world, edges, w.attempts, w.accepted, &k, w.rejected.total());
        attempts += w.attempts;
    }
    let k: Vec<usize> = kinds.iter().map(|k| stats.kinds.get(*k)).collect();
    row(&mut s, "total", String::new(), attempts, stats.accepted, &k, stats.rejected.total());
    if stats.worlds.iter().any(|w| w.edge_source == Some(worldsmith_synth::EdgeSource::DataFlow)) {
        let _ = writeln!(s, "(* data-flow edges computed from the tools: the world declares none)");
    }
    let t = &stats.text;
    if t.goals > 0 {
        let _ = writeln!(
            s,
            "goals: {} with a placeholder ({:.1}%), {} withholding a fact ({:.1}%), {} distinct openings",
            t.placeholder_goals,
            100.0 * t.placeholder_share,
            t.withheld_goals,
            100.0 * t.withheld_share,
            t.distinct_openings
        );
    }
    if !stats.rejected.is_empty() {
        let mut reasons = stats.rejected.named();
        reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let parts: Vec<String> = reasons.iter().map(|(r, n)| format!("{r} {n}")).collect();
        let _ = writeln!(s, "rejected chains: {}", parts.join(", "));
    }
    s
}

/// The summary people read.
#[must_use]
pub fn graph_table(s: &GraphSummary) -> String {
    let mut t = String::new();
    let c = &s.communities;
    let _ = writeln!(t, "tools                {:>8} ({} with a {} vector)", s.tools, s.embedded, s.embedder);
    let _ = writeln!(
        t,
        "similarity edges     {:>8} (cosine >= {}, {} nearest)",
        s.similarity_edges, s.threshold, s.neighbours
    );
    let _ = writeln!(t, "communities found    {:>8} (resolution {}, seed {})", c.found, s.resolution, s.seed);
    let _ = writeln!(t, "  isolated tools     {:>8}", c.isolated);
    let _ = writeln!(t, "  split              {:>8} ({} still oversized)", c.split, c.oversized);
    let _ = writeln!(t, "  merged small       {:>8}", c.merged);
    let _ = writeln!(t, "  dropped small      {:>8} ({} tools)", c.dropped, c.dropped_tools);
    let l = &s.leftovers;
    let _ = writeln!(
        t,
        "left by communities  {:>8} ({} joined a domain of their API, {} in {} domains of their own API, {} joined \
         a domain of their provider, {} left out)",
        l.left, l.attached, l.grouped, l.provider_domains, l.attached_to_provider, l.left_out
    );
    let _ = writeln!(
        t,
        "domains              {:>8} ({} tools; size min {}, median {}, p90 {}, max {})",
        s.domains, s.tools_in_domains, s.size.min, s.size.median, s.size.p90, s.size.max
    );
    let _ = writeln!(t, "modularity           {:>8.3}", s.modularity);
    let _ = writeln!(t, "data-flow edges      {:>8}", s.data_flow_edges);
    for (field, a) in &s.labels {
        let _ = writeln!(t, "agreement with {field:<8} NMI {:.3}, ARI {:.3} ({} classes)", a.nmi, a.ari, a.classes);
    }
    t
}

/// The summary people read.
#[must_use]
pub fn materialize_table(s: &MaterializeSummary) -> String {
    let mut t = String::new();
    let attempted = s.domains - s.skipped_small;
    let _ = writeln!(t, "domains          {:>6} ({} skipped as too small)", s.domains, s.skipped_small);
    let _ = writeln!(t, "worlds kept      {:>6} of {attempted}", s.kept);
    for (reason, n) in s.rejected.named() {
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
    let mut failures = s.tool_failures.named();
    failures.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for (reason, n) in failures.iter().take(8) {
        let _ = writeln!(t, "  failing       {n:>6} {reason}");
    }
    if !s.round_trips_run.is_empty() {
        let _ = writeln!(
            t,
            "round trips      {:>6} of {} held (create, update or delete, then read back; a wrong parent)",
            s.round_trips_run.total() - s.round_trips_failed.total(),
            s.round_trips_run.total()
        );
    }
    t
}

/// The arena summary people read.
#[must_use]
pub fn arenas_table(stats: &worldsmith_rollout::arena::ArenaStats) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "{:<16} {:>7}", "world", "arenas");
    for (world, n) in &stats.worlds {
        let _ = writeln!(t, "{world:<16} {n:>7}");
    }
    let _ = writeln!(
        t,
        "{} arenas from {} tasks: {} whole tasks, {} hops; {} need the user; sub-goals: {} records, {} answers",
        stats.arenas,
        stats.tasks,
        stats.whole,
        stats.hops,
        stats.needs_user,
        stats.record_subgoals,
        stats.answer_subgoals
    );
    t
}

/// The batch-filling simulation people read: one row per batch, then the comparison.
#[must_use]
pub fn grpo_table(r: &crate::grpo::SimulateReport) -> String {
    let mut t = String::new();
    let _ =
        writeln!(t, "{:>5} {:>7} {:>6} {:>9} {:>5} {:>9}", "batch", "rolled", "valid", "buffered", "used", "rollouts");
    for s in &r.steps {
        let _ = writeln!(
            t,
            "{:>5} {:>7} {:>6} {:>9} {:>5} {:>9}",
            s.step, s.rolled, s.valid, s.buffered, s.used, s.rollouts
        );
    }
    let _ = writeln!(
        t,
        "adaptive: {:.1} rollouts per batch, every group valid{}; every-group filler: {:.1} rollouts per batch, {:.1}% of its groups invalid; {:.1}% of all groups drawn invalid (reward std not above delta {}{})",
        r.adaptive_rollouts_per_batch,
        if r.unfilled > 0 { format!(" ({} batches not filled within budget)", r.unfilled) } else { String::new() },
        r.every_group_rollouts_per_batch,
        100.0 * r.every_group_zero_advantage,
        100.0 * r.zero_advantage,
        r.delta,
        if r.delta == 0.0 { ": all advantages zero" } else { "" }
    );
    t
}

/// The reward summary people read.
#[must_use]
pub fn reward_table(stats: &worldsmith_verify::RewardStats) -> String {
    let means: Vec<String> = stats.mean_rewards.iter().map(|(name, mean)| format!("{name} {mean:.3}")).collect();
    format!(
        "{} episodes scored: {} successful, {} invalid; sub-goals reached {} of {}; mean rewards: {}\n",
        stats.scored,
        stats.success,
        stats.invalid,
        stats.subgoals[0],
        stats.subgoals[1],
        if means.is_empty() { "none".to_owned() } else { means.join(", ") }
    )
}

/// The rollout summary people read.
#[must_use]
pub fn rollout_table(policy: &str, stats: &RolloutStats) -> String {
    let ended: Vec<String> = stats.ended.iter().map(|(k, v)| format!("{k} {v}")).collect();
    format!(
        "{policy}: {} episodes ({}), {} calls, {} failed\n",
        stats.episodes,
        ended.join(", "),
        stats.calls,
        stats.failed_calls
    )
}

/// The verification summary people read: one line per layer.
#[must_use]
pub fn verify_table(s: &VerifyStats) -> String {
    let mut t = String::new();
    let valid = s.episodes - s.invalid.total();
    let _ = writeln!(t, "episodes                 {:>6}", s.episodes);
    let _ = writeln!(t, "1 validity               {valid:>6} valid");
    for (reason, n) in s.invalid.named() {
        let _ = writeln!(t, "    {reason:<20} {n:>6} dropped");
    }
    let _ = writeln!(t, "2 state alignment        {:>6} of {} aligned", s.state_aligned, s.state_checked);
    let _ = writeln!(
        t,
        "  consistency            {:>6} of {} without changes (tasks without writes)",
        s.consistent, s.consistency_checked
    );
    let _ = writeln!(t, "3 answers missing        {:>6}", s.answers_missing);
    let _ = writeln!(
        t,
        "kept                     {:>6} ({} with failed calls that were recovered)",
        s.kept, s.kept_with_failed_calls
    );
    let _ = writeln!(
        t,
        "strict exact call match  {:>6} of {} valid; {} of the kept (AgentScaler's filter)",
        s.exact_matched, s.exact_checked, s.kept_exact
    );
    for (name, mean) in &s.mean_rewards {
        let _ = writeln!(t, "mean reward {name:<12} {mean:>6.3}");
    }
    for (world, n) in &s.unknown_world {
        let _ = writeln!(t, "unknown world {world}: {n} episodes skipped");
    }
    t
}

/// The export summary people read.
#[must_use]
pub fn sft_table(s: &SftStats) -> String {
    let lines: Vec<String> = s.lines.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let mut t = format!(
        "sft: {} lines ({}) from {} verdicts; {} not kept, {} duplicates, {} without episode; {} assistant messages trained, {} context only\n",
        s.lines.values().sum::<usize>(),
        lines.join(", "),
        s.verdicts,
        s.not_kept,
        s.duplicates,
        s.missing_episode,
        s.trained_messages,
        s.context_messages
    );
    if let Some(tokens) = &s.tokens {
        let name = tokens.tokenizer.as_ref().map_or("?", |i| i.name.as_str());
        let k = &tokens.stats;
        #[allow(clippy::cast_precision_loss)]
        let trained = if k.tokens == 0 { 0.0 } else { 100.0 * k.trained_tokens as f64 / k.tokens as f64 };
        let _ = writeln!(
            t,
            "tokens ({name}): {} lines, {} tokens, {} trained ({trained:.1}%), mean {:.0}, max {}; {} cut to --max-tokens, {} too long, {} refused",
            k.lines,
            k.tokens,
            k.trained_tokens,
            k.mean_length,
            k.max_length,
            tokens.cut,
            tokens.too_long,
            tokens.failed.values().sum::<usize>()
        );
        for (reason, n) in &tokens.failed {
            let _ = writeln!(t, "  refused {n:>6} {reason}");
        }
    }
    t
}

/// The metrics people read: per policy, success, the mean of every reward, pass^k and
/// success by chain length.
#[must_use]
pub fn metrics_table(m: &Metrics) -> String {
    let mut t = String::new();
    for (name, p) in &m.policies {
        let curve: Vec<String> = p.pass_hat_k.iter().enumerate().map(|(k, v)| format!("^{} {v:.3}", k + 1)).collect();
        let means: Vec<String> = p.mean_rewards.iter().map(|(r, v)| format!("mean {r} {v:.3}")).collect();
        let _ = writeln!(
            t,
            "{name}: {} tasks, {} episodes, success {:.3}, {}, pass{}",
            p.tasks,
            p.episodes,
            p.success.rate,
            means.join(", "),
            curve.join(" pass")
        );
        let lengths: Vec<String> =
            p.by_chain_length.iter().map(|(len, r)| format!("{len}: {:.2} ({}/{})", r.rate, r.ok, r.n)).collect();
        let _ = writeln!(t, "  success by gold calls  {}", lengths.join("  "));
    }
    t
}

/// The PRM pair set people read: pairs by error type (generated, proven, harmless, kept),
/// sources and the failed episodes that gave no pair.
#[must_use]
pub fn prm_table(summary: &worldsmith_prm::PrmSummary) -> String {
    use worldsmith_core::prm::ErrorType;
    let mut s = String::new();
    let _ = writeln!(s, "{:<22} {:>9} {:>7} {:>9} {:>6}", "error type", "generated", "proven", "harmless", "kept");
    for t in ErrorType::ALL {
        let _ = writeln!(
            s,
            "{:<22} {:>9} {:>7} {:>9} {:>6}",
            t.name(),
            summary.generated.get(t),
            summary.proven.get(t),
            summary.harmless.get(t),
            summary.kept.get(t)
        );
    }
    let sources: Vec<String> =
        summary.by_source.iter().map(|(k, v)| format!("{v} {}", format!("{k:?}").to_lowercase())).collect();
    let _ = writeln!(
        s,
        "{} pairs ({}) from {} tasks; {} capped by --per-task; {} failed episodes examined, {} without a pair{}",
        summary.pairs,
        sources.join(", "),
        summary.tasks,
        summary.capped,
        summary.episodes_examined,
        summary.episodes_without_pair.total(),
        if summary.judge_disagreements > 0 {
            format!("; {} dropped on judge disagreement", summary.judge_disagreements)
        } else {
            String::new()
        }
    );
    s
}

/// PRM accuracies people read: one row per PRM, overall and by position shown.
#[must_use]
pub fn prm_eval_table(reports: &[worldsmith_prm::eval::EvalReport]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<12} {:>6} {:>9} {:>15} {:>12} {:>13} {:>10}",
        "prm", "pairs", "accuracy", "95% interval", "chosen 1st", "chosen 2nd", "no answer"
    );
    for r in reports {
        let _ = writeln!(
            s,
            "{:<12} {:>6} {:>9.3} {:>15} {:>12.3} {:>13.3} {:>10}",
            r.prm,
            r.overall.total,
            r.overall.accuracy,
            format!("{:.3}-{:.3}", r.overall.interval[0], r.overall.interval[1]),
            r.chosen_first.accuracy,
            r.chosen_second.accuracy,
            r.unanswered
        );
    }
    s
}

/// Reward-guided search people read: one row per number of candidates.
#[must_use]
pub fn search_table(report: &crate::prm::SearchReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:>3} {:>9} {:>8} {:>8} {:>8} {:>16} {:>15}",
        "N", "episodes", "success", "rate", "mean F1", "turns w/ mistake", "mistakes taken"
    );
    for r in &report.rows {
        let _ = writeln!(
            s,
            "{:>3} {:>9} {:>8} {:>8.3} {:>8.3} {:>16} {:>15}",
            r.candidates, r.episodes, r.success, r.success_rate, r.mean_f1, r.turns_with_mistakes, r.mistakes_taken
        );
    }
    let (guide, policy) = report.rows.iter().fold((0, 0), |(g, p), r| (g + r.guide_failures, p + r.policy_failures));
    if guide > 0 {
        let _ = writeln!(s, "the guide failed to score {guide} candidates (they ranked last)");
    }
    if policy > 0 {
        let _ = writeln!(s, "the policy's endpoint failed in {policy} episodes (counted as failed)");
    }
    s
}

/// The quality of generated worlds at a glance: each round trip's pass rate, how the data
/// reads, and the share of the pool's tools in kept worlds.
#[must_use]
pub fn generated_quality_table(s: &worldsmith_materialize::MaterializeSummary) -> String {
    let mut t = String::new();
    for (label, rate, detail) in generated_quality(s) {
        let _ = writeln!(t, "{label:<24} {:>6.1}%  {detail}", rate * 100.0);
    }
    t
}

/// The rows of [`generated_quality_table`] and of its chart: (label, rate in 0..1, counts).
#[must_use]
pub fn generated_quality(s: &worldsmith_materialize::MaterializeSummary) -> Vec<(String, f64, String)> {
    let pool = s.pool_tools;
    #[allow(clippy::cast_precision_loss)]
    let share = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let mut rows = Vec::new();
    for trip in worldsmith_materialize::RoundTrip::ALL {
        let run = s.round_trips_run.get(trip);
        if run > 0 {
            let held = run - s.round_trips_failed.get(trip);
            let label = if trip == worldsmith_materialize::RoundTrip::WrongParent {
                "wrong parent finds none".to_owned()
            } else {
                trip.name().to_owned()
            };
            rows.push((label, share(held, run), format!("round trips: {held} of {run} held")));
        }
    }
    let d = &s.data;
    rows.push((
        "strings not placeholders".to_owned(),
        share(d.strings - d.placeholders, d.strings),
        format!("{} placeholders of {} strings", d.placeholders, d.strings),
    ));
    rows.push((
        "objects not stubs".to_owned(),
        share(d.objects - d.stubs, d.objects),
        format!("{} stubs, {} empty, of {} objects", d.stubs, d.empty_objects, d.objects),
    ));
    rows.push((
        "tools in kept worlds".to_owned(),
        share(s.tools_kept, pool),
        format!("{} of {pool} tools, {} worlds kept of {}", s.tools_kept, s.kept, s.domains),
    ));
    rows
}
