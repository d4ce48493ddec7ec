//! A hand-written REST pool (pets, owners, orders) materialized, checked and used.

use serde_json::Value;
use worldsmith_core::tool::ToolSpec;
use worldsmith_engine::{MemFiles, World};
use worldsmith_graph::{Domain, DomainStats};
use worldsmith_materialize::{MaterializeConfig, materialize};

fn pool() -> Vec<ToolSpec> {
    let text = include_str!("fixtures/petstore.jsonl");
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn domain(tools: &[ToolSpec]) -> Domain {
    Domain {
        id: "dom-0001".into(),
        name: "pet-owner-order".into(),
        tools: tools.iter().map(|t| t.id.clone()).collect(),
        edges: vec![(tools[0].id.clone(), tools[2].id.clone())],
        stats: DomainStats::default(),
    }
}

fn load(files: &[(String, String)]) -> World {
    let mut mem = MemFiles::new("test");
    for (p, t) in files {
        mem.insert(p.clone(), t.clone());
    }
    World::load(&mem).unwrap()
}

#[test]
fn a_rest_pool_becomes_a_world_that_checks_and_works() {
    let tools = pool();
    let (worlds, reports, summary) = materialize(&tools, &[domain(&tools)], &MaterializeConfig::default());
    assert_eq!(summary.kept, 1, "{reports:#?}");
    assert_eq!(reports[0].passed, tools.len(), "{reports:#?}");
    let world = load(&worlds[0].files);
    assert!(worldsmith_engine::check(&world).passed());
    let manifest: Value = serde_json::from_str(&worlds[0].files[0].1).unwrap();
    assert_eq!(manifest["origin"], "generated");
    assert_eq!(manifest["collections"]["pets"]["key"], "petId");
    assert_eq!(manifest["collections"]["pets"]["foreign_keys"]["ownerId"], "owners");
    assert_eq!(manifest["collections"]["orders"]["foreign_keys"]["petId"], "pets");
    assert_eq!(manifest["edges"][0], serde_json::json!(["listPets", "getPetById"]));
    // Reads read, writes write, refusals are clear.
    let mut s = world.session();
    let pet = s.execute("getPetById", &serde_json::json!({"petId": 3})).unwrap();
    assert!(pet["name"].is_string() && pet["status"].is_string());
    let before = s.digest();
    s.execute("updatePet", &serde_json::json!({"petId": 3, "name": "Biscuit the Second"})).unwrap();
    assert_ne!(s.digest(), before);
    let owner_pets = s.execute("listOwnerPets", &serde_json::json!({"ownerId": pet["ownerId"].clone()})).unwrap();
    assert!(owner_pets.as_array().is_some_and(|a| !a.is_empty()));
    assert!(s.execute("getPetById", &serde_json::json!({"petId": 999})).is_err());
    // The same seed gives the same files.
    let (again, _, _) = materialize(&tools, &[domain(&tools)], &MaterializeConfig::default());
    assert_eq!(again, worlds);
}

#[test]
fn a_world_whose_tools_mostly_fail_is_rejected_with_reasons() {
    let mut tools = pool();
    // Tools whose key parameters are objects cannot address records.
    for t in tools.iter_mut().skip(2) {
        t.parameters["properties"] = serde_json::json!({"petId": {"type": "object"}});
        t.provenance.locations.clear();
    }
    let (worlds, reports, summary) = materialize(&tools, &[domain(&tools)], &MaterializeConfig::default());
    assert!(worlds.is_empty());
    assert_eq!(summary.kept, 0);
    assert!(reports[0].reason.as_deref().is_some_and(|r| r.starts_with("self-check")), "{reports:#?}");
}
