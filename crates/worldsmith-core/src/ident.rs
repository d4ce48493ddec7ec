//! Identifier rules, in one place: what a valid tool name is, how an identifier reads as
//! words, which parameter names denote record ids, and which values are shaped like one.
//!
//! Ingest, the engine, the graph, synthesis, rollout and verification all decide these
//! questions; they ask here so that they agree.

/// The longest function name OpenAI's format (and so every tool of ours) allows.
pub const MAX_FUNCTION_NAME: usize = 64;

/// Whether `name` is 1 to `max` bytes of `[A-Za-z0-9_-]` (a valid function name when `max`
/// is [`MAX_FUNCTION_NAME`]).
#[must_use]
pub fn is_name(name: &str, max: usize) -> bool {
    (1..=max).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A name without case and separators, so that spellings of one field meet:
/// `pet_id`, `petId`, `PetID` -> `petid`.
#[must_use]
pub fn normalise(name: &str) -> String {
    name.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
}

/// An identifier as words: `placed_on` -> `placed on`, `zipCode` -> `zip code`.
#[must_use]
pub fn words(identifier: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in identifier.chars() {
        if c == '_' || c == '-' {
            out.push(' ');
            prev_lower = false;
        } else if c.is_uppercase() && prev_lower {
            out.push(' ');
            out.extend(c.to_lowercase());
            prev_lower = false;
        } else {
            out.push(c);
            prev_lower = c.is_lowercase() || c.is_ascii_digit();
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An identifier as the words a sentence uses for it: `credit_limit` -> `credit limit`,
/// `creditLimit` -> `credit limit`, `contentSubmissionID` -> `content submission ID`,
/// `getTSIGKey` -> `get TSIG key`, `BillingAddress4` -> `billing address4`,
/// `address.city` -> `address city`. Words are lower case but for acronyms (two or more
/// capitals), which stay as they are; `Id`/`id` reads `ID` only inside an acronym run.
#[must_use]
pub fn phrase(identifier: &str) -> String {
    let chars: Vec<char> = identifier.chars().collect();
    let mut tokens: Vec<String> = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                tokens.push(std::mem::take(&mut current));
            }
            continue;
        }
        if let Some(&prev) = current.chars().last().as_ref() {
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let boundary = (prev.is_lowercase() && c.is_uppercase())
                || (prev.is_uppercase() && c.is_uppercase() && next_lower)
                || (prev.is_ascii_digit() && c.is_uppercase());
            if boundary {
                tokens.push(std::mem::take(&mut current));
            }
        }
        current.push(c);
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
        .into_iter()
        .map(|t| {
            let upper = t.chars().filter(|c| c.is_uppercase()).count();
            if upper >= 2 && t.chars().all(|c| c.is_uppercase() || c.is_ascii_digit()) { t } else { t.to_lowercase() }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether a parameter or field name denotes one record's id: `id`, `order_id`, `orderId`.
#[must_use]
pub fn is_id_name(name: &str) -> bool {
    name == "id" || name.ends_with("_id") || name.ends_with("Id")
}

/// Whether a parameter or field name denotes a list of record ids: `order_ids`.
#[must_use]
pub fn is_id_list_name(name: &str) -> bool {
    name.ends_with("_ids")
}

/// The noun an id parameter names, as words: `payment_method_id` -> `payment method`,
/// `item_ids` -> `items`, `userId` -> `user`; other names as words (`quantity`).
#[must_use]
pub fn id_noun(name: &str) -> String {
    let base = name
        .strip_suffix("_ids")
        .map(|b| format!("{b}s"))
        .or_else(|| name.strip_suffix("_id").map(str::to_owned))
        .or_else(|| name.strip_suffix("Id").map(str::to_owned))
        .unwrap_or_else(|| name.to_owned());
    words(&base)
}

/// Whether a string value names a record: letters and digits together, no white space
/// (`ACC-00095`, `ORD-1`), the shape of the identifiers agents must not make up.
#[must_use]
pub fn looks_like_id(s: &str) -> bool {
    !s.contains(char::is_whitespace) && s.chars().any(|c| c.is_ascii_digit()) && s.chars().any(char::is_alphabetic)
}

/// A lower-case English word in the singular, by a light rule that leaves words it is not
/// sure of alone: `payments` -> `payment`, `categories` -> `category`; `status`, `address`,
/// `analysis` and words of three letters or fewer stay as they are.
#[must_use]
pub fn singular(word: &str) -> String {
    if word.len() > 4 && word.ends_with("ies") {
        return format!("{}y", &word[..word.len() - 3]);
    }
    if word.len() > 3 && word.ends_with('s') && !word.ends_with("ss") && !word.ends_with("us") && !word.ends_with("is")
    {
        return word[..word.len() - 1].to_owned();
    }
    word.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_words() {
        assert!(is_name("get_pet-2", MAX_FUNCTION_NAME));
        assert!(!is_name("", MAX_FUNCTION_NAME) && !is_name("a.b", MAX_FUNCTION_NAME));
        assert!(!is_name(&"a".repeat(65), MAX_FUNCTION_NAME));
        assert_eq!(normalise("Pet_ID"), "petid");
        assert_eq!(words("zipCode"), "zip code");
        assert_eq!(words("placed_on"), "placed on");
        assert_eq!(words("order2Id"), "order2 id");
        assert_eq!(phrase("credit_limit"), "credit limit");
        assert_eq!(phrase("creditLimit"), "credit limit");
        assert_eq!(phrase("contentSubmissionID"), "content submission ID");
        assert_eq!(phrase("getTSIGKey"), "get TSIG key");
        assert_eq!(phrase("BillingAddress4"), "billing address4");
        assert_eq!(phrase("address.city"), "address city");
        assert_eq!(phrase("api_transport-infobip_id"), "api transport infobip id");
        assert_eq!(phrase("last4"), "last4");
    }

    #[test]
    fn id_names_and_nouns() {
        for name in ["id", "order_id", "orderId"] {
            assert!(is_id_name(name), "{name}");
        }
        for name in ["identity", "paid", "order_ids", "valid"] {
            assert!(!is_id_name(name), "{name}");
        }
        assert!(is_id_list_name("item_ids"));
        assert_eq!(id_noun("payment_method_id"), "payment method");
        assert_eq!(id_noun("item_ids"), "items");
        assert_eq!(id_noun("userId"), "user");
        assert_eq!(id_noun("quantity"), "quantity");
    }

    #[test]
    fn id_shaped_values() {
        assert!(looks_like_id("ACC-00095") && looks_like_id("ord1"));
        assert!(!looks_like_id("12345") && !looks_like_id("pending") && !looks_like_id("order 1"));
    }

    #[test]
    fn singulars() {
        let cases = [
            ("payments", "payment"),
            ("categories", "category"),
            ("status", "status"),
            ("address", "address"),
            ("analysis", "analysis"),
            ("ids", "ids"),
            ("pies", "pie"),
            ("pet", "pet"),
        ];
        for (plural, one) in cases {
            assert_eq!(singular(plural), one, "{plural}");
        }
    }
}
