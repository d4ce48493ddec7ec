//! Valid and unique tool names, unique ids (the rules are in the crate documentation).

use std::collections::HashSet;

/// The longest valid name.
pub const MAX_NAME: usize = worldsmith_core::ident::MAX_FUNCTION_NAME;

/// `raw` as a valid function name (`^[A-Za-z0-9_-]{1,64}$`), or `None` when nothing usable
/// is left.
pub fn sanitize(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len().min(MAX_NAME));
    for c in raw.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' };
        if c == '_' && (out.is_empty() || out.ends_with('_')) {
            continue;
        }
        out.push(c);
    }
    let trimmed = out.trim_end_matches('_');
    let cut = &trimmed[..trimmed.len().min(MAX_NAME)];
    let cut = cut.trim_end_matches('_');
    (!cut.is_empty() && cut.chars().any(|c| c.is_ascii_alphanumeric())).then(|| cut.to_string())
}

/// The name of an HTTP operation without an `operationId`: `get /pets/{petId}` ->
/// `get_pets_petId`.
pub fn from_method_path(method: &str, path: &str) -> Option<String> {
    sanitize(&format!("{method}_{path}"))
}

/// Whether `name` is a valid function name.
pub fn is_valid(name: &str) -> bool {
    worldsmith_core::ident::is_name(name, MAX_NAME)
}

fn short_hash(text: &str) -> String {
    blake3::hash(text.as_bytes()).to_hex()[..6].to_string()
}

/// `base` if it is free, else `base` (cut to fit) + `_` + 6 hex digits of the hash of `id`
/// (then of `{id}#1`, `{id}#2`, ...); the name returned is marked as used.
pub fn unique_name(base: &str, id: &str, used: &mut HashSet<String>) -> String {
    if used.insert(base.to_string()) {
        return base.to_string();
    }
    // Cut to fit, without a separator at the cut (no `__` before the suffix).
    let stem = base[..base.len().min(MAX_NAME - 7)].trim_end_matches(['_', '-']);
    for n in 0usize.. {
        let key = if n == 0 { id.to_string() } else { format!("{id}#{n}") };
        let name = format!("{stem}_{}", short_hash(&key));
        if used.insert(name.clone()) {
            return name;
        }
    }
    unreachable!("the loop returns")
}

/// `id` if it is free, else `id~2`, `id~3`, ...; the id returned is marked as used.
pub fn unique_id(id: &str, used: &mut HashSet<String>) -> String {
    if used.insert(id.to_string()) {
        return id.to_string();
    }
    for n in 2usize.. {
        let candidate = format!("{id}~{n}");
        if used.insert(candidate.clone()) {
            return candidate;
        }
    }
    unreachable!("the loop returns")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sanitized_and_cut() {
        assert_eq!(sanitize("math.factorial").as_deref(), Some("math_factorial"));
        assert_eq!(sanitize("  get Pet/{id} ").as_deref(), Some("get_Pet_id"));
        assert_eq!(sanitize("ünïcode").as_deref(), Some("n_code"));
        assert_eq!(sanitize("...").as_deref(), None);
        assert_eq!(sanitize("--").as_deref(), None);
        assert_eq!(sanitize(&"a".repeat(100)).unwrap().len(), 64);
        assert_eq!(from_method_path("get", "/pets/{petId}").as_deref(), Some("get_pets_petId"));
        assert!(is_valid("a-b_C9") && !is_valid("") && !is_valid("a.b") && !is_valid(&"a".repeat(65)));
    }

    #[test]
    fn a_taken_name_gets_a_hash_suffix() {
        let mut used = HashSet::new();
        assert_eq!(unique_name("listUsers", "a.json#get /users", &mut used), "listUsers");
        let second = unique_name("listUsers", "b.json#get /users", &mut used);
        assert_eq!(second, format!("listUsers_{}", &blake3::hash(b"b.json#get /users").to_hex()[..6]));
        let long = "x".repeat(64);
        assert_eq!(unique_name(&long, "1", &mut used), long);
        let cut = unique_name(&long, "2", &mut used);
        assert!(is_valid(&cut) && cut.len() == 64, "{cut}");
        // Even a taken suffixed name resolves.
        let mut used: HashSet<String> = ["f".to_string(), format!("f_{}", short_hash("id"))].into_iter().collect();
        let third = unique_name("f", "id", &mut used);
        assert_eq!(third, format!("f_{}", short_hash("id#1")));
    }

    #[test]
    fn a_taken_id_gets_a_counter() {
        let mut used = HashSet::new();
        assert_eq!(unique_id("a#f", &mut used), "a#f");
        assert_eq!(unique_id("a#f", &mut used), "a#f~2");
        assert_eq!(unique_id("a#f", &mut used), "a#f~3");
    }
}
