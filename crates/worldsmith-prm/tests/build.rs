//! Pairs built on the bundled worlds: every label re-proven from the pair line alone.

// Tests may unwrap and report on the terminal (the library-code lints of the workspace).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::sync::OnceLock;
use worldsmith_core::episode::{Episode, Verdict};
use worldsmith_core::prm::{ErrorType, Judge, PairLine, PairSource};
use worldsmith_core::task::TaskLine;
use worldsmith_engine::World;
use worldsmith_prm::{BuildConfig, PrmSummary, TaskInput, build};
use worldsmith_rollout::scripted::Noise;
use worldsmith_rollout::{Policy, RolloutConfig, rollout};
use worldsmith_synth::{SynthConfig, synthesize};

struct Fixture {
    pairs: Vec<(World, TaskLine)>,
    oracle: Vec<(Episode, Verdict)>,
    noisy: Vec<(Episode, Verdict)>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let worlds: Vec<World> =
            worldsmith_worlds::default_names().map(|n| worldsmith_worlds::load(n).unwrap().unwrap()).collect();
        let tasks = synthesize(&worlds, &SynthConfig { seed: 3, tasks_per_world: 10, ..SynthConfig::default() }).tasks;
        let pairs: Vec<(World, TaskLine)> = tasks
            .into_iter()
            .map(|t| (worlds.iter().find(|w| Some(w.name()) == t.world.as_deref()).unwrap().clone(), t))
            .collect();
        let judged = |episodes: Vec<Episode>| -> Vec<(Episode, Verdict)> {
            episodes
                .into_iter()
                .map(|e| {
                    let w = &pairs.iter().find(|(w, _)| w.name() == e.world).unwrap().0;
                    let v = worldsmith_verify::verify(&e, w);
                    (e, v)
                })
                .collect()
        };
        let oracle = judged(rollout(&pairs, &RolloutConfig::default()).0);
        let noisy_config = RolloutConfig {
            policy: Policy::Noisy(Noise { mistake_rate: 0.4, recovery_rate: 0.5 }),
            trials: 3,
            seed: 9,
            ..RolloutConfig::default()
        };
        let noisy = judged(rollout(&pairs, &noisy_config).0);
        Fixture { pairs, oracle, noisy }
    })
}

fn inputs(f: &Fixture) -> Vec<TaskInput<'_>> {
    f.pairs
        .iter()
        .zip(&f.oracle)
        .map(|((world, task), (oracle, verdict))| TaskInput {
            world,
            task,
            oracle,
            oracle_success: verdict.success,
            failed: f.noisy.iter().filter(|(e, v)| e.task.id == task.id && !v.success).map(|(e, _)| e).collect(),
        })
        .collect()
}

fn built() -> &'static (Vec<PairLine>, PrmSummary) {
    static B: OnceLock<(Vec<PairLine>, PrmSummary)> = OnceLock::new();
    B.get_or_init(|| build(&inputs(fixture()), &BuildConfig { seed: 1, per_task: 0 }))
}

#[test]
fn pairs_of_both_sources_and_every_kind_of_mistake_are_built() {
    let (pairs, summary) = built();
    println!("{}", serde_json::to_string_pretty(summary).unwrap());
    assert_eq!(summary.pairs, pairs.len());
    assert!(summary.by_source.get(&PairSource::Offline).copied().unwrap_or(0) > 100, "{summary:?}");
    assert!(summary.by_source.get(&PairSource::Online).copied().unwrap_or(0) > 5, "{summary:?}");
    for t in [
        ErrorType::WrongTool,
        ErrorType::WrongArgumentValue,
        ErrorType::MissingArgument,
        ErrorType::RepeatedCall,
        ErrorType::PrematureAnswer,
        ErrorType::WrongAnswer,
        ErrorType::UnconfirmedWrite,
    ] {
        assert!(summary.kept.get(t) > 0, "no {t} pair: {summary:?}");
    }
    // Independent steps taken in another order are not mistakes: some out-of-order
    // candidates turn out harmless and are discarded, never labelled.
    assert!(summary.harmless.get(ErrorType::OutOfOrder) > 0, "{summary:?}");
    // Ids are unique; every judge agrees on every kept pair.
    let ids: std::collections::BTreeSet<&str> = pairs.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids.len(), pairs.len());
    assert!(pairs.iter().all(|p| p.judges.iter().all(|j| j.agrees)));
    assert!(pairs.iter().all(|p| p.judges.iter().any(|j| j.judge == Judge::Execution)));
}

#[test]
fn building_is_deterministic_and_the_cap_keeps_every_kind() {
    let f = fixture();
    let a = build(&inputs(f), &BuildConfig { seed: 1, per_task: 4 });
    let b = build(&inputs(f), &BuildConfig { seed: 1, per_task: 4 });
    assert_eq!(a.0, b.0);
    let offline_per_task = a.0.iter().filter(|p| p.source == PairSource::Offline).fold(
        std::collections::BTreeMap::<&str, usize>::new(),
        |mut m, p| {
            *m.entry(p.task.as_str()).or_default() += 1;
            m
        },
    );
    assert!(offline_per_task.values().all(|n| *n <= 4), "{offline_per_task:?}");
    assert_eq!(a.1.capped + a.0.iter().filter(|p| p.source == PairSource::Offline).count(), a.1.proven.total());
}

fn gold_paths(f: &Fixture) -> Vec<worldsmith_prm::path::GoldPath<'_>> {
    f.pairs
        .iter()
        .zip(&f.oracle)
        .filter(|(_, (_, v))| v.success)
        .map(|((w, t), (o, _))| worldsmith_prm::path::GoldPath::new(w, t, o))
        .collect()
}

#[test]
fn the_execution_lookahead_re_proves_every_label_from_the_pair_line_alone() {
    use worldsmith_prm::eval::{HeuristicPrm, LookaheadPrm, RandomPrm, evaluate};
    let f = fixture();
    let (pairs, _) = built();
    let paths = gold_paths(f)
        .into_iter()
        .map(|p| ((p.oracle.world.clone(), worldsmith_rollout::id_text(&p.task.id)), p))
        .collect();
    let lookahead = LookaheadPrm { paths };
    // The state is rebuilt by running the history's calls again, not taken from the build.
    let report = evaluate(pairs, &lookahead, 7);
    assert_eq!(report.unanswered, 0, "{:?}", report.failures);
    assert_eq!(report.overall.correct, pairs.len(), "{report:?}");
    let random = evaluate(pairs, &RandomPrm { seed: 1 }, 7);
    assert!((0.4..0.6).contains(&random.overall.accuracy), "{:?}", random.overall);
    // The order is seeded per pair: about half the pairs show the correct action first.
    let shown_first = random.chosen_first.total as f64 / pairs.len() as f64;
    assert!((0.4..0.6).contains(&shown_first));
    let heuristic = evaluate(pairs, &HeuristicPrm, 7);
    assert!(heuristic.overall.accuracy > random.overall.accuracy, "{:?}", heuristic.overall);
    assert!(heuristic.overall.accuracy < 1.0);
    for a in heuristic.by_error_type.values() {
        assert!(a.interval[0] <= a.accuracy && a.accuracy <= a.interval[1]);
    }
}

#[test]
fn a_model_judge_is_asked_both_orders_and_its_position_bias_and_garbage_are_reported() {
    use worldsmith_llm::testing::{TestServer, completion};
    use worldsmith_prm::eval::{ModelPrm, evaluate};
    let (pairs, _) = built();
    let sample: Vec<PairLine> = pairs.iter().step_by(pairs.len() / 40).cloned().collect();
    // A model that always answers "A" (and sometimes rambles without a letter).
    let server = TestServer::start(|n, _| {
        let text = if n % 10 == 9 { "I am not sure." } else { "Answer: A" };
        (200, completion(serde_json::json!({"role": "assistant", "content": text})))
    });
    let mut config = worldsmith_llm::ChatConfig::new(server.base_url(), "always-a");
    config.retries = 0;
    let prm = ModelPrm { client: worldsmith_llm::ChatClient::new(config), timeout: std::time::Duration::from_secs(10) };
    let report = evaluate(&sample, &prm, 3);
    assert_eq!(report.overall.total, sample.len());
    assert!(report.unanswered > 0 && report.unanswered < sample.len() / 5, "{report:?}");
    // Every answered pair with the correct action first is right, none with it second.
    assert!(report.chosen_first.total - report.chosen_first.correct <= report.unanswered, "{report:?}");
    assert!(report.chosen_first.accuracy > 0.6, "{:?}", report.chosen_first);
    assert_eq!(report.chosen_second.correct, 0);
    // Every request shows both actions and the tools.
    for r in server.requests() {
        let user = r.body["messages"][1]["content"].as_str().unwrap();
        assert!(user.contains("Action A:") && user.contains("Action B:") && user.contains("Tools"));
    }
}

#[test]
fn lookahead_guided_search_improves_success_monotonically_with_more_candidates() {
    use worldsmith_prm::search::{Guide, Proposer, SearchConfig, search_all};
    let f = fixture();
    let paths = gold_paths(f);
    let mut rates = Vec::new();
    for n in [1, 2, 4, 8] {
        let config =
            SearchConfig { candidates: n, proposer: Proposer::Noisy { mistake_rate: 0.5 }, seed: 4, max_steps: 30 };
        let (row, episodes) = search_all(&paths, &Guide::Lookahead, &config, 2);
        assert_eq!(episodes.len(), paths.len() * 2);
        println!("{row:?}");
        rates.push((row.success_rate, row.mean_f1));
    }
    for w in rates.windows(2) {
        assert!(w[1].0 >= w[0].0 && w[1].1 >= w[0].1 - 1e-9, "{rates:?}");
    }
    assert!(rates[3].0 > rates[0].0, "{rates:?}");
}

#[test]
fn layouts_name_the_fields_their_readers_expect_and_splits_keep_groups_whole() {
    use worldsmith_prm::layout::{Layout, Split, SplitBy, SplitConfig, render, split};
    let (pairs, _) = built();
    let trl = render(&pairs[0], Layout::Trl);
    for key in ["prompt", "chosen", "rejected", "tools"] {
        assert!(trl.get(key).is_some(), "{key}");
    }
    // Chat templates get "" where a tool-call turn has no text.
    for p in pairs.iter().take(200) {
        let t = render(p, Layout::Trl);
        for m in t["prompt"].as_array().unwrap().iter().chain(t["chosen"].as_array().unwrap()) {
            assert!(m["content"].is_string(), "{m}");
        }
    }
    let bench = render(&pairs[0], Layout::ToolPrmBench);
    for key in ["history", "functions", "action_chosen", "action_rejected", "error_type"] {
        assert!(bench.get(key).is_some(), "{key}");
    }
    let by_world = split(pairs, &SplitConfig { by: SplitBy::World, test_fraction: 0.25, seed: 2 });
    let mut worlds: std::collections::BTreeMap<&str, std::collections::BTreeSet<Split>> = Default::default();
    for (p, s) in pairs.iter().zip(&by_world) {
        worlds.entry(p.world.as_str()).or_default().insert(*s);
    }
    assert!(worlds.values().all(|s| s.len() == 1), "{worlds:?}");
    assert!(by_world.contains(&Split::Test) && by_world.contains(&Split::Train));
}

#[test]
fn model_judges_drop_the_pairs_they_disagree_with_and_silence_drops_nothing() {
    use worldsmith_llm::testing::{TestServer, completion};
    use worldsmith_prm::cross_check;
    use worldsmith_prm::eval::ModelPrm;
    let (pairs, summary) = built();
    let sample: Vec<PairLine> = pairs.iter().step_by(pairs.len() / 30).cloned().collect();
    let judge = |server: &TestServer, model: &str| {
        let mut config = worldsmith_llm::ChatConfig::new(server.base_url(), model);
        config.retries = 0;
        ModelPrm { client: worldsmith_llm::ChatClient::new(config), timeout: std::time::Duration::from_secs(10) }
    };
    // A judge that always picks A agrees exactly when the chosen action was shown first.
    let always_a =
        TestServer::start(|_, _| (200, completion(serde_json::json!({"role": "assistant", "content": "A"}))));
    let mut s = summary.clone();
    let kept = cross_check(sample.clone(), &[judge(&always_a, "always-a")], 5, &mut s);
    assert!(!kept.is_empty() && kept.len() < sample.len(), "{} of {}", kept.len(), sample.len());
    assert_eq!(s.judge_disagreements - summary.judge_disagreements, sample.len() - kept.len());
    assert_eq!(s.pairs, kept.len());
    let [agreed, seen] = s.agreement[&Judge::Model];
    assert_eq!((agreed, seen), (kept.len(), sample.len()));
    for p in &kept {
        let verdict = p.judges.iter().find(|j| j.judge == Judge::Model).unwrap();
        assert!(verdict.agrees && verdict.model.as_deref() == Some("always-a"));
    }
    // A judge that never names an action is not applied: nothing dropped, all counted.
    let mute = TestServer::start(|_, _| (200, completion(serde_json::json!({"role": "assistant", "content": "hmm"}))));
    let mut s = summary.clone();
    let kept = cross_check(sample.clone(), &[judge(&mute, "mute")], 5, &mut s);
    assert_eq!(kept.len(), sample.len());
    assert_eq!(s.judge_unanswered, sample.len());
}
