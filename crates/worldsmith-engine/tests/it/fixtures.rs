//! A small world built in memory, shared by the tests.

use worldsmith_engine::{MemFiles, World};

pub const MANIFEST: &str = r#"{
  "format": 1,
  "name": "mini",
  "collections": {
    "accounts": {
      "key": "account_id",
      "fields": {
        "owner": {"type": "string"},
        "balance": {"type": "number", "minimum": 0},
        "status": {"enum": ["open", "frozen", "closed"]}
      },
      "required": ["owner", "balance", "status"]
    },
    "transfers": {
      "key": "transfer_id",
      "fields": {"from": {"type": "string"}, "to": {"type": "string"}, "amount": {"type": "number"}},
      "required": ["from", "to", "amount"],
      "foreign_keys": {"from": "accounts", "to": "accounts"}
    }
  },
  "data": {"dir": "data"},
  "limits": {"ticks": 100000, "heap_bytes": 16000000},
  "tools": [
    {"name": "get_account", "description": "Look up an account.", "effect": "read",
     "parameters": {"type": "object", "properties": {"account_id": {"type": "string"}}, "required": ["account_id"]},
     "op": {"kind": "get", "collection": "accounts"}},
    {"name": "find_accounts", "description": "Accounts of an owner.", "effect": "read",
     "parameters": {"type": "object", "properties": {"owner": {"type": "string"}}},
     "op": {"kind": "list", "collection": "accounts", "where": {"owner": "owner"}}},
    {"name": "transfer", "description": "Move money between two open accounts.", "effect": "write",
     "parameters": {"type": "object", "properties": {
        "from": {"type": "string"}, "to": {"type": "string"}, "amount": {"type": "number", "exclusiveMinimum": 0}},
        "required": ["from", "to", "amount"]},
     "script": "transfer.star"},
    {"name": "run_script", "description": "Runs a named misbehaviour (tests only).", "effect": "write",
     "parameters": {"type": "object", "properties": {"what": {"type": "string"}}, "required": ["what"]},
     "script": "bad.star"},
    {"name": "peek", "description": "A read tool that tries to write.", "effect": "read",
     "parameters": {"type": "object", "properties": {}},
     "script": "peek.star"}
  ]
}"#;

pub const TRANSFER: &str = r#"
def transfer(**kwargs):
    src = db.get("accounts", kwargs["from"])
    dst = db.get("accounts", kwargs["to"])
    amount = kwargs["amount"]
    if src == None or dst == None:
        fail("account not found")
    if src["status"] != "open" or dst["status"] != "open":
        fail("both accounts must be open")
    if src["balance"] < amount:
        fail("insufficient funds")
    src["balance"] = round(src["balance"] - amount, 2)
    dst["balance"] = round(dst["balance"] + amount, 2)
    key = db.next_key("transfers", "T")
    db.insert("transfers", key, {"from": kwargs["from"], "to": kwargs["to"], "amount": amount})
    return {"transfer_id": key, "balance": src["balance"]}
"#;

pub const BAD: &str = r#"
def forever():
    x = 0
    for i in range(1000000):
        for j in range(1000000):
            x += 1
    return x

def deep(n):
    return deep(n + 1)

def run_script(what):
    a = db.get("accounts", "a1")
    a["balance"] = 0
    if what == "loop":
        return forever()
    if what == "alloc":
        return len([0] * 1000000000)
    if what == "alloc_str":
        return len("x" * 2000000000)
    if what == "range":
        return len(list(range(2000000000)))
    if what == "grow":
        s = "x"
        for i in range(100):
            s = s + s
        return len(s)
    if what == "recurse":
        return deep(0)
    if what == "raise":
        return {}["missing"]
    if what == "fail":
        fail("refused on purpose")
    if what == "invalid":
        a["status"] = "weird"
        return "ok"
    if what == "dangling":
        db.insert("transfers", "T9", {"from": "a1", "to": "nobody", "amount": 1})
        return "ok"
    if what == "not_json":
        return deep
    return "unknown"
"#;

pub const PEEK: &str = r#"
def peek():
    db.put("accounts", "a9", {"owner": "x", "balance": 1, "status": "open"})
    return "wrote"
"#;

pub const ACCOUNTS: &str = r#"{
  "a1": {"owner": "ada", "balance": 100.5, "status": "open"},
  "a2": {"owner": "bob", "balance": 20, "status": "open"},
  "a3": {"owner": "ada", "balance": 0, "status": "frozen"}
}"#;

pub fn files() -> MemFiles {
    MemFiles::new("mini")
        .with("world.json", MANIFEST)
        .with("transfer.star", TRANSFER)
        .with("bad.star", BAD)
        .with("peek.star", PEEK)
        .with("data/accounts.json", ACCOUNTS)
        .with("data/transfers.json", "{}")
}

pub fn world() -> World {
    World::load(&files()).unwrap_or_else(|e| panic!("{e}"))
}
