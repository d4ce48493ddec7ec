//! A hand-written REST pool (pets, owners, orders) materialized, checked and used.

// Tests may unwrap and report on the terminal (the library-code lints of the workspace).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use serde_json::Value;
use worldsmith_core::tool::ToolSpec;
use worldsmith_engine::{MemFiles, World};
use worldsmith_graph::{Domain, DomainStats};
use worldsmith_materialize::{ImplementationKind, MaterializeConfig, Operation, Rejection, materialize};

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
    let (worlds, reports, summary) =
        materialize(&tools, &[domain(&tools)], &MaterializeConfig::default(), None, &|_| {});
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
    let (again, _, _) = materialize(&tools, &[domain(&tools)], &MaterializeConfig::default(), None, &|_| {});
    assert_eq!(again, worlds);
}

/// Issue #17, item 3: worlds are built a batch of domains at a time; where the batches are
/// cut, and how many threads build them, changes nothing.
#[test]
fn batches_of_any_size_give_the_same_worlds_reports_and_summary() {
    let tools = pool();
    // Overlapping domains, one too small to try, and a tool id the pool lacks.
    let mut domains: Vec<Domain> = (0..tools.len() - 2)
        .map(|i| Domain {
            id: format!("dom-{i:04}"),
            tools: tools[i..i + 3].iter().map(|t| t.id.clone()).collect(),
            ..domain(&tools)
        })
        .collect();
    domains.push(Domain {
        id: "dom-small".into(),
        tools: vec![tools[0].id.clone(), "missing".into()],
        ..domain(&tools)
    });
    domains.push(domain(&tools));
    let run = |batch_tools: usize| {
        let config = MaterializeConfig { batch_tools, ..MaterializeConfig::default() };
        materialize(&tools, &domains, &config, None, &|_| {})
    };
    let whole = run(usize::MAX);
    assert!(whole.2.kept >= 2 && whole.2.skipped_small == 1, "{:#?}", whole.2);
    assert_eq!(whole.1.len(), domains.len() - 1);
    for batch_tools in [0, 1, 4, 7, MaterializeConfig::default().batch_tools] {
        assert!(run(batch_tools) == whole, "batches of {batch_tools} tools differ");
    }
    let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    assert!(one_thread.install(|| run(1)) == whole, "one thread differs");
    // Streamed: each outcome in domain order, the tools asked for a batch at a time.
    let (mut names, mut asked) = (Vec::new(), Vec::new());
    let config = MaterializeConfig { batch_tools: 5, ..MaterializeConfig::default() };
    let summary = worldsmith_materialize::materialize_each(
        &domains,
        &config,
        None,
        |ids| {
            asked.push(ids.len());
            Ok::<_, ()>(tools.iter().filter(|t| ids.contains(t.id.as_str())).cloned().collect())
        },
        |world, report| {
            names.push((world.map(|w| w.name), report.domain));
            Ok(())
        },
        &|_| {},
    )
    .unwrap();
    assert_eq!(summary, whole.2);
    assert_eq!(
        names.iter().map(|(_, d)| d.clone()).collect::<Vec<_>>(),
        whole.1.iter().map(|r| r.domain.clone()).collect::<Vec<_>>()
    );
    assert_eq!(
        names.iter().filter_map(|(w, _)| w.clone()).collect::<Vec<_>>(),
        whole.0.iter().map(|w| w.name.clone()).collect::<Vec<_>>()
    );
    assert!(asked.len() > 1 && asked[0] <= 6, "{asked:?}");
}

#[test]
fn a_world_whose_tools_mostly_fail_is_rejected_with_reasons() {
    let mut tools = pool();
    // Tools whose key parameters are objects cannot address records.
    for t in tools.iter_mut().skip(2) {
        t.parameters["properties"] = serde_json::json!({"petId": {"type": "object"}});
        t.provenance.locations.clear();
    }
    let (worlds, reports, summary) =
        materialize(&tools, &[domain(&tools)], &MaterializeConfig::default(), None, &|_| {});
    assert!(worlds.is_empty());
    assert_eq!(summary.kept, 0);
    assert_eq!(summary.rejected.get(Rejection::SelfCheck), 1, "{summary:#?}");
    assert!(reports[0].reason.as_deref().is_some_and(|r| r.starts_with("self-check")), "{reports:#?}");
}

/// A tool of the pool's petstore provider.
fn extra(name: &str, method: &str, path: &str, params: Value, response: Value) -> ToolSpec {
    let mut t = pool()[0].clone();
    t.id = format!("petstore.json#{method} {path}");
    t.name = name.to_owned();
    t.description = name.to_owned();
    t.provenance.path = Some(path.to_owned());
    t.provenance.method = Some(method.to_owned());
    t.provenance.operation_id = Some(name.to_owned());
    t.provenance.locations = params["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| (k.clone(), if path.contains(&format!("{{{k}}}")) { "path" } else { "query" }.to_owned()))
        .collect();
    t.parameters = params;
    t.response = (!response.is_null()).then_some(response);
    t
}

#[test]
fn transitions_and_wrapped_lists_become_generated_starlark() {
    let mut tools = pool();
    tools.push(extra(
        "approveOrder",
        "post",
        "/store/orders/{orderId}/approve",
        serde_json::json!({"type": "object", "properties": {"orderId": {"type": "string"}}, "required": ["orderId"]}),
        Value::Null,
    ));
    let owner = serde_json::json!({"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "city": {"type": "string"}}});
    let listing = tools.iter_mut().find(|t| t.name == "listOwners").unwrap();
    listing.response = Some(serde_json::json!({"type": "object", "properties": {
        "owners": {"type": "array", "items": owner}, "total": {"type": "integer"}, "next": {"type": "string"}}}));
    let (worlds, reports, summary) =
        materialize(&tools, &[domain(&tools)], &MaterializeConfig::default(), None, &|_| {});
    assert_eq!(reports[0].passed, tools.len(), "{reports:#?}");
    assert_eq!(summary.scripted_tools, 2, "{summary:#?}");
    let result = |n: &str| reports[0].results.iter().find(|r| r.tool == n).unwrap().clone();
    assert_eq!(
        (result("approveOrder").operation, result("approveOrder").implementation),
        (Operation::Transition, ImplementationKind::Script)
    );
    assert_eq!(result("listOwners").implementation, ImplementationKind::Script);
    assert_eq!(result("getOwner").implementation, ImplementationKind::Op);
    let files: Vec<&str> = worlds[0].files.iter().map(|(p, _)| p.as_str()).collect();
    assert!(files.contains(&"tools/approveOrder.star") && files.contains(&"tools/listOwners.star"), "{files:?}");
    // The wrapper object's properties are not mistaken for owner fields.
    let manifest: Value = serde_json::from_str(&worlds[0].files[0].1).unwrap();
    assert!(manifest["collections"]["owners"]["fields"].get("total").is_none());

    let world = load(&worlds[0].files);
    assert!(worldsmith_engine::check(&world).passed());
    let mut s = world.session();
    let page = s.execute("listOwners", &serde_json::json!({})).unwrap();
    let owners = page["owners"].as_array().unwrap();
    assert_eq!(page["total"], owners.len());
    assert!(owners.iter().all(|o| o["ownerId"].is_number() && o["name"].is_string()));
    let city = owners[0]["city"].clone();
    let in_city = s.execute("listOwners", &serde_json::json!({"city": city})).unwrap();
    assert!(in_city["owners"].as_array().unwrap().iter().all(|o| o["city"] == city));
    // Approving twice: the second call is refused and changes nothing.
    let orders = world.initial_state().keys("orders").map(str::to_owned).collect::<Vec<_>>();
    let key = orders
        .iter()
        .find(|k| s.execute("getOrderById", &serde_json::json!({"orderId": k})).unwrap()["status"] != "approved")
        .unwrap();
    let approved = s.execute("approveOrder", &serde_json::json!({"orderId": key})).unwrap();
    assert_eq!((approved["status"].as_str(), approved["orderId"].as_str()), (Some("approved"), Some(key.as_str())));
    let before = s.digest();
    let again = s.execute("approveOrder", &serde_json::json!({"orderId": key})).unwrap_err().to_string();
    assert!(again.contains("already has status approved"), "{again}");
    assert_eq!(s.digest(), before);
}

#[test]
fn a_model_implements_a_failing_tool_after_its_first_script_fails() {
    use worldsmith_llm::testing::{TestServer, completion};
    // With one record per collection, the only pet is referenced by the only order, so the
    // generated delete is refused; a script that deletes the pet's orders first passes.
    let broken = "```python\ndef run(**args):\n    db.delete(\"pets\", str(args[\"petId\"])\n```";
    // The second answer also adds a field (a schema fix) that its script keeps up to date.
    let cascade = r#"```python
def run(**args):
    key = str(args["petId"])
    pet = db.get("pets", key)
    if pet == None:
        fail("no pet %s" % key)
    for k in db.keys("orders", {"petId": args["petId"]}):
        db.delete("orders", k)
    owner = db.get("owners", str(pet["ownerId"]))
    if owner != None:
        owner["pets_removed"] = owner["pets_removed"] + 1
    db.delete("pets", key)
    return {"deleted": key}
```
```json
{"add_fields": {"owners": {"pets_removed": "integer"}}}
```"#;
    let server = TestServer::start(move |n, _| {
        (200, completion(serde_json::json!({"role": "assistant", "content": if n == 0 { broken } else { cascade }})))
    });
    let client = worldsmith_llm::ChatClient::new(worldsmith_llm::ChatConfig::new(server.base_url(), "test-model"));
    let refiner = worldsmith_materialize::refine::Refiner::new(client, 2);
    let tools = pool();
    let config = MaterializeConfig { records: 1, ..MaterializeConfig::default() };
    let (_, plain, _) = materialize(&tools, &[domain(&tools)], &config, None, &|_| {});
    let failing: Vec<&str> = plain[0].results.iter().filter(|r| !r.passed).map(|r| r.tool.as_str()).collect();
    assert_eq!(failing, ["deletePet"], "{plain:#?}");

    let (worlds, reports, summary) = materialize(&tools, &[domain(&tools)], &config, Some(&refiner), &|_| {});
    assert_eq!(reports[0].passed, tools.len(), "{reports:#?}");
    let delete = reports[0].results.iter().find(|r| r.tool == "deletePet").unwrap();
    assert_eq!((delete.implementation, delete.llm_attempts), (ImplementationKind::Llm, 2));
    assert_eq!((summary.refine_asked, summary.refine_passed, summary.refine_requests), (1, 1, 2));
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let prompt = requests[0].body["messages"][1]["content"].as_str().unwrap();
    assert!(
        prompt.contains("Tool `deletePet` (write)") && prompt.contains("`petId` refers to a `pets` key"),
        "{prompt}"
    );
    // The second request carries the first script and why it failed.
    let messages = requests[1].body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 4);
    assert!(messages[3]["content"].as_str().unwrap().starts_with("The check failed: load:"), "{messages:#?}");
    let world = load(&worlds[0].files);
    assert!(worldsmith_engine::check(&world).passed());
    assert!(worlds[0].files.iter().any(|(p, t)| p == "tools/deletePet.star" && t.contains("db.keys(\"orders\"")));
    let manifest: Value = serde_json::from_str(&worlds[0].files[0].1).unwrap();
    assert_eq!(
        manifest["collections"]["owners"]["fields"]["pets_removed"]["type"],
        serde_json::json!(["integer", "null"])
    );
    let owners = &worlds[0].files.iter().find(|(p, _)| p == "data/owners.json").unwrap().1;
    let owners: Value = serde_json::from_str(owners).unwrap();
    assert!(owners.as_object().unwrap().values().all(|o| o["pets_removed"].is_u64()));
}

#[test]
fn scoped_reads_renamed_writes_and_deletes_by_filter_mean_what_their_paths_say() {
    let mut tools = pool();
    let int = serde_json::json!({"type": "integer"});
    let pet = tools.iter().find(|t| t.name == "getPetById").unwrap().response.clone().unwrap();
    tools.push(extra(
        "getOwnerPet",
        "get",
        "/owners/{ownerId}/pets/{petId}.json",
        serde_json::json!({"type": "object", "properties": {"ownerId": int, "petId": int}, "required": ["ownerId", "petId"]}),
        pet,
    ));
    let mut rename = extra(
        "renamePet",
        "put",
        "/v1/pets/{petId}/name",
        serde_json::json!({"type": "object", "properties": {"petId": int, "value": {"type": "string"}}, "required": ["petId", "value"]}),
        Value::Null,
    );
    rename.provenance.locations.insert("value".into(), "body".into());
    tools.push(rename);
    tools.push(extra(
        "deletePetsByName",
        "delete",
        "/pets",
        serde_json::json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}),
        Value::Null,
    ));
    let (worlds, reports, _) = materialize(&tools, &[domain(&tools)], &MaterializeConfig::default(), None, &|_| {});
    assert_eq!(reports[0].passed, tools.len(), "{reports:#?}");
    let world = load(&worlds[0].files);
    let mut s = world.session();
    let pet = s.execute("getPetById", &serde_json::json!({"petId": 3})).unwrap();
    // Found under its owner, not under another.
    let owner = pet["ownerId"].clone();
    assert!(s.execute("getOwnerPet", &serde_json::json!({"ownerId": owner, "petId": 3})).is_ok());
    let other = serde_json::json!({"ownerId": 987_654, "petId": 3});
    assert!(s.execute("getOwnerPet", &other).unwrap_err().to_string().contains("not found"));
    // `PUT /pets/{petId}/name {"value": ...}` writes the pet's name, and no `value` field.
    s.execute("renamePet", &serde_json::json!({"petId": 3, "value": "Biscuit"})).unwrap();
    let renamed = s.execute("getPetById", &serde_json::json!({"petId": 3})).unwrap();
    assert_eq!(renamed["name"], "Biscuit");
    assert!(renamed.get("value").is_none());
    // A keyless DELETE removes the records its filter names (the last pet: no order refers
    // to it), and inserts nothing.
    let name = s.execute("getPetById", &serde_json::json!({"petId": 20})).unwrap()["name"].clone();
    let before = s.execute("listPets", &serde_json::json!({})).unwrap().as_array().unwrap().len();
    let deleted = s.execute("deletePetsByName", &serde_json::json!({"name": name})).unwrap();
    let after = s.execute("listPets", &serde_json::json!({})).unwrap().as_array().unwrap().len();
    assert_eq!(before - after, deleted["deleted"].as_array().unwrap().len());
    assert!(after < before);
}

#[test]
fn round_trips_leave_out_a_create_whose_records_the_other_tools_cannot_find() {
    // Two resources merged into one collection, as akeneo's PAM assets and its asset
    // families' assets are: `POST /pets` files pets under no owner, while the owner-scoped
    // read finds pets only under their owner.
    let mut tools = pool();
    let int = serde_json::json!({"type": "integer"});
    let pet = tools.iter().find(|t| t.name == "getPetById").unwrap().response.clone().unwrap();
    tools.retain(|t| t.name != "getPetById");
    let add = tools.iter_mut().find(|t| t.name == "addPet").unwrap();
    add.parameters["properties"].as_object_mut().unwrap().remove("ownerId");
    add.provenance.locations.remove("ownerId");
    tools.push(extra(
        "getOwnerPet",
        "get",
        "/owners/{ownerId}/pets/{petId}",
        serde_json::json!({"type": "object", "properties": {"ownerId": int, "petId": int}, "required": ["ownerId", "petId"]}),
        pet,
    ));
    let (worlds, reports, summary) =
        materialize(&tools, &[domain(&tools)], &MaterializeConfig::default(), None, &|_| {});
    let report = &reports[0];
    println!("{}", serde_json::to_string_pretty(&report.round_trips).unwrap());
    let trip = |check: &str, write: &str| {
        report
            .round_trips
            .iter()
            .find(|t| serde_json::to_value(t.check).unwrap() == check && t.write == write)
            .unwrap_or_else(|| panic!("no {check} trip of {write}: {:#?}", report.round_trips))
    };
    // The create's record is not found by the scoped read: the create is left out, with why.
    let failed = trip("create then get", "addPet");
    assert!(!failed.passed && failed.reason.as_deref().unwrap().contains("cannot find the record"), "{failed:?}");
    let add = report.results.iter().find(|r| r.tool == "addPet").unwrap();
    assert!(!add.passed && add.reason.as_deref().unwrap().starts_with("round trip (create then get): "), "{add:?}");
    assert_eq!(
        summary
            .tool_failures
            .get(worldsmith_materialize::ToolFailure::RoundTrip(worldsmith_materialize::RoundTrip::CreateThenGet)),
        1
    );
    // The others hold: an update shows through the read, a delete hides the record, and a
    // read under another owner finds nothing.
    for (check, write) in
        [("update then get", "updatePet"), ("delete then get", "deletePet"), ("wrong parent", "getOwnerPet")]
    {
        assert!(trip(check, write).passed, "{check} {write}: {:#?}", report.round_trips);
    }
    assert_eq!(summary.round_trips_failed.total(), 1, "{summary:?}");
    assert!(summary.round_trips_run.total() >= 4, "{summary:?}");
    // The world is kept without the create, and its manifest does not offer it.
    assert_eq!(summary.kept, 1, "{reports:#?}");
    let manifest: Value = serde_json::from_str(&worlds[0].files[0].1).unwrap();
    let names: Vec<&str> = manifest["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(!names.contains(&"addPet") && names.contains(&"getOwnerPet"), "{names:?}");
}

#[test]
fn a_model_script_that_passes_the_mechanical_check_but_does_not_delete_is_left_out() {
    use worldsmith_llm::testing::{TestServer, completion};
    // The generated delete is refused (the only pet has an order); the model's script
    // changes the state, so the mechanical check passes, but the pet is still there.
    let fake = r#"```python
def run(**args):
    key = str(args["petId"])
    pet = db.get("pets", key)
    if pet == None:
        fail("no pet %s" % key)
    pet["name"] = pet["name"] + " (deleted)"
    db.put("pets", key, pet)
    return {"deleted": key}
```"#;
    let server =
        TestServer::start(move |_, _| (200, completion(serde_json::json!({"role": "assistant", "content": fake}))));
    let client = worldsmith_llm::ChatClient::new(worldsmith_llm::ChatConfig::new(server.base_url(), "test-model"));
    let refiner = worldsmith_materialize::refine::Refiner::new(client, 1);
    let tools = pool();
    let config = MaterializeConfig { records: 1, ..MaterializeConfig::default() };
    let (worlds, reports, summary) = materialize(&tools, &[domain(&tools)], &config, Some(&refiner), &|_| {});
    let delete = reports[0].results.iter().find(|r| r.tool == "deletePet").unwrap();
    assert_eq!(delete.implementation, ImplementationKind::Llm, "{delete:?}");
    assert!(!delete.passed, "{delete:?}");
    assert!(delete.reason.as_deref().unwrap().contains("still finds"), "{delete:?}");
    assert_eq!(summary.round_trips_failed.total(), 1, "{summary:?}");
    assert!(!worlds[0].files.iter().any(|(p, _)| p == "tools/deletePet.star"));
}
