//! Seeded, schema-valid, referentially consistent records: the document's own values (enum,
//! default, example, bounds) first, then values by what a field's name and format mean, from
//! the words of the `vocabulary` module.

use crate::infer::{Collection, Field, kind_matches};
use crate::vocabulary as vocab;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use worldsmith_core::ident;
use worldsmith_core::rng::SplitMix64;

/// The keys of a collection: `1..=n` for numeric keys, `PREFIX-0001...` otherwise.
#[must_use]
pub fn keys(c: &Collection, n: usize) -> Vec<String> {
    (1..=n).map(|i| if c.numeric_key { i.to_string() } else { format!("{}-{i:04}", key_prefix(c)) }).collect()
}

/// The prefix of a collection's generated keys: its first four letters, upper case.
pub fn key_prefix(c: &Collection) -> String {
    let letters: String = c.name.chars().filter(char::is_ascii_alphabetic).take(4).collect();
    if letters.is_empty() { "K".to_owned() } else { letters.to_ascii_uppercase() }
}

/// A key value as an argument of a parameter of `kind`.
#[must_use]
pub fn key_value(key: &str, kind: &str) -> Value {
    match kind {
        "integer" | "number" => key.parse::<i64>().map_or_else(|_| json!(key), |n| json!(n)),
        _ => json!(key),
    }
}

/// A value for a field, by name, format and enum (`k` varies it; `k` from 9,000 on makes an
/// argument for a call rather than stored data). See [`value_in`].
pub fn value(name: &str, field: &Field, k: usize, rng: &mut SplitMix64) -> Value {
    value_in("", name, field, k, rng)
}

/// Whether `k` asks for a call's argument (the self-check's convention) rather than data.
fn for_argument(k: usize) -> bool {
    k >= 9_000
}

/// A value for field `name` of a record of `collection`: the document's enum first, then its
/// default (one record in three) and example (the first record as written, the others in its
/// shape), then by the field's meaning (its name and format) within its bounds. Free-form
/// objects are empty in data; objects with known properties get them, two levels deep.
pub fn value_in(collection: &str, name: &str, field: &Field, k: usize, rng: &mut SplitMix64) -> Value {
    if field.kind == "array" {
        return array(collection, name, field, k, rng);
    }
    if !field.choices.is_empty() {
        return field.choices[rng.below(field.choices.len() as u64) as usize].clone();
    }
    if field.kind == "object" {
        return object(collection, field, k, rng);
    }
    if let Some(d) = field.default.as_ref().filter(|d| kind_matches(&field.kind, d))
        && k % 3 == 1
        && !for_argument(k)
    {
        return d.clone();
    }
    if let Some(e) = field.example.as_ref().filter(|e| kind_matches(&field.kind, e)) {
        match e {
            Value::String(text) if !is_placeholder(text) && !looks_like_date(text) && !text.trim().is_empty() => {
                return json!(clip(&like(text.trim(), k, rng), field.max_length));
            }
            Value::Number(_) if k == 1 => return e.clone(),
            _ => {}
        }
    }
    match field.kind.as_str() {
        "boolean" => json!(rng.below(2) == 0),
        "integer" => integer(name, field, rng),
        "number" => number(name, field, rng),
        _ => json!(clip(&text(collection, name, field, k, rng), field.max_length)),
    }
}

/// Cuts a text to a schema's `maxLength` (in characters).
fn clip(text: &str, max: Option<usize>) -> String {
    match max {
        Some(m) if m > 0 => text.chars().take(m).collect(),
        _ => text.to_owned(),
    }
}

/// A text in the shape of an example: the first record takes the example; the others take
/// it with its digits redrawn (`ACC-12345` -> `ACC-80417`), so identifiers and codes keep
/// their form. An example without digits stays as it is.
fn like(example: &str, k: usize, rng: &mut SplitMix64) -> String {
    if k == 1 {
        return example.to_owned();
    }
    let mut first = true;
    example
        .chars()
        .map(|c| {
            if c.is_ascii_digit() {
                let low = if first && c != '0' { 1 } else { 0 };
                first = false;
                char::from(b'0' + (low + rng.below(10 - low)) as u8)
            } else {
                c
            }
        })
        .collect()
}

/// Whether a text starts like an ISO date (`2024-05-01`).
fn looks_like_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[7] == b'-'
}

/// Whether a generated string is a placeholder: a made-up word with a number (`harbor-3`,
/// `ember juniper note 4`), the values before realistic data.
#[must_use]
pub fn is_placeholder(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    let words: Vec<&str> = lower.split(['-', ' ']).filter(|w| !w.is_empty()).collect();
    let numbered = words.last().is_some_and(|w| w.chars().all(|c| c.is_ascii_digit()));
    let made_up =
        numbered && words.len() >= 2 && words[..words.len() - 1].iter().any(|w| vocab::PLACEHOLDER_WORDS.contains(w));
    // A document's own filler ("string", "sample email", "lorem ipsum").
    let filler = matches!(lower.trim(), "string" | "sample" | "example" | "test" | "foo" | "bar" | "text" | "value")
        || ["sample ", "example ", "lorem ipsum", "your "].iter().any(|p| lower.starts_with(p));
    made_up || filler
}

/// The lower-case words of an identifier (`checkInDate` -> `check in date`).
fn name_words(name: &str) -> Vec<String> {
    ident::words(name).split_whitespace().map(str::to_lowercase).collect()
}

fn pick<'v>(rng: &mut SplitMix64, list: &[&'v str]) -> &'v str {
    list[rng.below(list.len() as u64) as usize]
}

/// The kind of thing a collection holds, by its name's last word.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Holder {
    Person,
    Company,
    Product,
    Other,
}

fn holder(collection: &str) -> Holder {
    const PEOPLE: &[&str] = &[
        "user",
        "customer",
        "contact",
        "person",
        "people",
        "employee",
        "member",
        "owner",
        "author",
        "agent",
        "guest",
        "passenger",
        "patient",
        "student",
        "reviewer",
        "driver",
        "candidate",
        "client",
        "shopper",
        "subscriber",
        "buyer",
        "seller",
        "recipient",
        "attendee",
        "traveler",
        "traveller",
        "profile",
        "player",
        "teacher",
        "staff",
    ];
    const COMPANIES: &[&str] = &[
        "company",
        "companie",
        "organization",
        "organisation",
        "merchant",
        "vendor",
        "supplier",
        "partner",
        "brand",
        "tenant",
        "business",
        "store",
        "shop",
        "carrier",
        "provider",
        "manufacturer",
        "publisher",
        "bank",
    ];
    const PRODUCTS: &[&str] = &["product", "item", "sku", "variant", "offer", "listing", "article", "good", "catalog"];
    let last = name_words(collection).last().map(|w| ident::singular(w)).unwrap_or_default();
    if PEOPLE.contains(&last.as_str()) {
        Holder::Person
    } else if COMPANIES.contains(&last.as_str()) {
        Holder::Company
    } else if PRODUCTS.contains(&last.as_str()) {
        Holder::Product
    } else {
        Holder::Other
    }
}

fn person(rng: &mut SplitMix64) -> String {
    format!("{} {}", pick(rng, vocab::FIRST), pick(rng, vocab::LAST))
}

fn company(rng: &mut SplitMix64) -> String {
    format!("{} {}", pick(rng, vocab::COMPANY_STEMS), pick(rng, vocab::COMPANY_KINDS))
}

fn product(rng: &mut SplitMix64) -> String {
    format!("{} {}", pick(rng, vocab::ADJECTIVES), pick(rng, vocab::PRODUCTS))
}

/// A name for a thing of no known kind: a qualifier and the collection's noun ("Quarterly
/// report"), or the field's words when the collection has no name.
fn titled(collection: &str, name: &str, rng: &mut SplitMix64) -> String {
    let source = if collection.is_empty() { name } else { collection };
    let noun: Vec<String> = name_words(source).iter().map(|w| ident::singular(w)).collect();
    let noun = noun.iter().filter(|w| !matches!(w.as_str(), "name" | "title" | "label")).cloned().collect::<Vec<_>>();
    let noun = if noun.is_empty() { "record".to_owned() } else { noun.join(" ") };
    format!("{} {noun}", pick(rng, vocab::QUALIFIERS))
}

/// An identifier-like text from a field name: `creditAccountId` -> `CRED-4821`.
fn identifier(name: &str, rng: &mut SplitMix64) -> String {
    let stem: String = name_words(name)
        .iter()
        .filter(|w| !matches!(w.as_str(), "id" | "ids" | "uuid" | "code" | "number" | "ref" | "reference" | "no"))
        .flat_map(|w| w.chars())
        .filter(char::is_ascii_alphabetic)
        .take(4)
        .collect();
    let stem = if stem.is_empty() { "REF".to_owned() } else { stem.to_ascii_uppercase() };
    format!("{stem}-{}", 1000 + rng.below(9000))
}

/// A text by the field's meaning.
#[allow(clippy::too_many_lines)]
/// The `OData` type of a collection's records: `directory_roles` -> `#microsoft.graph.directoryRole`.
fn odata_type(collection: &str) -> String {
    let one = ident::singular(collection);
    let mut camel = String::new();
    for (i, w) in one.split('_').filter(|w| !w.is_empty()).enumerate() {
        let mut c = w.chars();
        if let Some(f) = c.next() {
            if i == 0 {
                camel.extend(f.to_lowercase());
            } else {
                camel.extend(f.to_uppercase());
            }
            camel.push_str(c.as_str());
        }
    }
    format!("#microsoft.graph.{camel}")
}

fn text(collection: &str, name: &str, field: &Field, k: usize, rng: &mut SplitMix64) -> String {
    let words = name_words(name);
    let has = |w: &str| words.iter().any(|x| x == w);
    let last = words.last().map_or("", String::as_str);
    let format = field.format.as_deref().unwrap_or("");
    let (city, country) = vocab::CITIES[rng.below(vocab::CITIES.len() as u64) as usize];
    let day = 1 + rng.below(28);
    let month = 1 + rng.below(12);
    let year = 2025 + rng.below(2);
    let first = pick(rng, vocab::FIRST);
    let family = pick(rng, vocab::LAST);
    // OData's type annotation names the entity's type (Microsoft Graph: `#microsoft.graph.user`).
    if name == "@odata.type" {
        return odata_type(collection);
    }
    if format == "email" || has("email") || has("mail") {
        return format!("{}.{}{}@example.com", first.to_lowercase(), family.to_lowercase().replace('\'', ""), k % 100);
    }
    let event = [
        "created",
        "modified",
        "updated",
        "deleted",
        "issued",
        "expires",
        "expired",
        "started",
        "ended",
        "opened",
        "closed",
        "published",
        "completed",
        "cancelled",
        "canceled",
        "since",
        "until",
        "scheduled",
        "submitted",
    ];
    if format == "date-time"
        || matches!(last, "at" | "time" | "timestamp" | "datetime" | "on")
        || event.contains(&last)
        || name.ends_with("At") && name.len() > 2
    {
        return format!("{year}-{month:02}-{day:02}T{:02}:{:02}:00Z", 8 + rng.below(10), rng.below(60));
    }
    if format == "date" || has("date") || has("birthday") || has("day") || has("dob") {
        return format!("{year}-{month:02}-{day:02}");
    }
    if format == "uuid" || has("uuid") || has("guid") {
        return format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            rng.next_u64() as u32,
            rng.below(65536),
            rng.below(4096),
            rng.below(4096),
            rng.next_u64() & 0xffff_ffff_ffff
        );
    }
    if format.starts_with("ip") || has("ip") {
        return format!("192.0.2.{}", 1 + rng.below(254));
    }
    if matches!(format, "uri" | "url" | "uri-reference") || matches!(last, "url" | "uri" | "link" | "href" | "website")
    {
        let page = ident::words(name).replace(' ', "-").to_lowercase();
        return format!("https://www.example.com/{page}/{}", 100 + rng.below(900));
    }
    if has("phone") || has("mobile") || has("fax") || has("msisdn") {
        return format!("+1-555-{:03}-{:04}", rng.below(1000), rng.below(10000));
    }
    if has("first") || has("given") || has("forename") {
        return first.to_owned();
    }
    if has("last") && has("name") || has("surname") || has("family") {
        return family.to_owned();
    }
    if has("username") || has("login") || has("handle") || has("nickname") || (has("user") && has("name")) {
        return format!("{}{}{}", first.to_lowercase(), family.to_lowercase().replace('\'', ""), k % 100);
    }
    let named = matches!(last, "name" | "title" | "label") || name == "displayName";
    let person_words = [
        "customer",
        "contact",
        "owner",
        "author",
        "person",
        "full",
        "holder",
        "employee",
        "recipient",
        "sender",
        "manager",
        "agent",
        "guest",
        "passenger",
        "driver",
        "buyer",
        "seller",
        "billing",
        "shipping",
    ];
    let company_words = [
        "company",
        "organization",
        "organisation",
        "merchant",
        "vendor",
        "supplier",
        "business",
        "brand",
        "employer",
        "store",
        "shop",
        "carrier",
        "bank",
    ];
    if has("company")
        || has("organization")
        || has("employer")
        || named && words.iter().any(|w| company_words.contains(&w.as_str()))
    {
        return company(rng);
    }
    if named && words.iter().any(|w| person_words.contains(&w.as_str()))
        || matches!(last, "owner" | "author" | "assignee" | "creator" | "reporter" | "approver" | "manager")
    {
        return person(rng);
    }
    if named && (has("product") || has("item")) {
        return product(rng);
    }
    if named {
        return match holder(collection) {
            Holder::Person => person(rng),
            Holder::Company => company(rng),
            Holder::Product => product(rng),
            Holder::Other => titled(collection, name, rng),
        };
    }
    if has("city") || has("town") || has("locality") {
        return city.to_owned();
    }
    if has("country") {
        return country.to_owned();
    }
    if has("currency") {
        return pick(rng, vocab::CURRENCIES).to_owned();
    }
    if has("province") || has("region") || has("county") {
        return city.to_owned();
    }
    if has("status") || has("state") {
        return pick(rng, vocab::STATUSES).to_owned();
    }
    if has("zip") || has("postal") || has("postcode") {
        return format!("{:05}", 10_000 + rng.below(90_000));
    }
    if has("address") || has("street") || has("line1") || has("line") {
        return format!("{} {}", 1 + rng.below(240), pick(rng, vocab::STREETS));
    }
    if has("locale") || has("language") || has("lang") {
        return pick(rng, vocab::LOCALES).to_owned();
    }
    if has("timezone") || has("tz") || has("zone") && has("time") {
        return pick(rng, vocab::TIME_ZONES).to_owned();
    }
    if has("color") || has("colour") {
        return pick(rng, vocab::COLORS).to_owned();
    }
    if has("category") {
        return pick(rng, vocab::CATEGORIES).to_owned();
    }
    if has("tag") || has("tags") || has("keyword") {
        return pick(rng, vocab::TAGS).to_owned();
    }
    if matches!(last, "type" | "kind" | "mode" | "method" | "channel" | "level" | "tier" | "plan") {
        return pick(rng, vocab::KINDS).to_owned();
    }
    if has("duration") {
        return format!("PT{}H{}M", rng.below(8), 5 * rng.below(12));
    }
    if has("hours") || has("hour") {
        return format!("{}.{}", rng.below(40), 5 * rng.below(2));
    }
    if has("version") {
        return format!("{}.{}.{}", 1 + rng.below(3), rng.below(10), rng.below(20));
    }
    if has("domain") || has("host") || has("hostname") {
        return format!("{}.example.com", pick(rng, vocab::COMPANY_STEMS).to_lowercase());
    }
    if has("slug") {
        return titled(collection, name, rng).to_lowercase().replace(' ', "-");
    }
    if has("path") || has("file") || has("filename") {
        return format!("files/{year}/{}.pdf", titled(collection, name, rng).to_lowercase().replace(' ', "-"));
    }
    if has("token") || has("secret") || has("hash") || has("signature") || has("key") && !has("id") {
        return format!("{:016x}", rng.next_u64());
    }
    if [
        "description",
        "summary",
        "comment",
        "comments",
        "note",
        "notes",
        "text",
        "message",
        "body",
        "content",
        "reason",
        "remark",
        "remarks",
        "details",
        "instructions",
        "bio",
        "about",
    ]
    .iter()
    .any(|w| has(w))
    {
        return pick(rng, vocab::SENTENCES).to_owned();
    }
    if ident::is_id_name(name)
        || matches!(last, "id" | "code" | "number" | "ref" | "reference" | "sku" | "no" | "ids" | "crc" | "checksum")
    {
        return identifier(name, rng);
    }
    titled("", name, rng)
}

/// An integer by the field's meaning, within the document's bounds: counts small and never
/// negative.
fn integer(name: &str, field: &Field, rng: &mut SplitMix64) -> Value {
    let words = name_words(name);
    let has = |w: &str| words.iter().any(|x| x == w);
    let last = words.last().map_or("", String::as_str);
    let (low, high): (i64, i64) = if matches!(last, "at" | "time" | "timestamp" | "epoch") || has("unix") {
        // Seconds since 1970, in 2025 and 2026.
        (1_735_689_600, 1_798_761_599)
    } else if has("year") {
        (2018, 2026)
    } else if has("month") {
        (1, 12)
    } else if has("day") && !has("days") {
        (1, 28)
    } else if has("hour") {
        (0, 23)
    } else if has("minute") || has("second") && !has("seconds") {
        (0, 59)
    } else if has("port") {
        (1024, 65_535)
    } else if has("age") {
        (18, 80)
    } else if has("rating") || has("stars") {
        (1, 5)
    } else if has("percent") || has("percentage") || has("score") {
        (0, 100)
    } else if has("count") || has("offset") || has("page") || has("size") || has("limit") && !has("credit") {
        (0, 12)
    } else if [
        "amount", "price", "cost", "fee", "total", "balance", "cents", "salary", "revenue", "limit", "budget", "value",
    ]
    .iter()
    .any(|w| has(w))
    {
        (100, 50_000)
    } else if has("seconds") || has("duration") || has("timeout") || has("ttl") || has("interval") {
        (30, 3_600)
    } else if ident::is_id_name(name) || matches!(last, "id" | "number" | "code" | "ref") {
        (1_000, 99_999)
    } else if has("priority") || has("rank") || has("position") || has("order") || has("index") || has("sequence") {
        (1, 10)
    } else {
        // Counts: adults, rooms, nights, items, pages.
        (0, 12)
    };
    let (low, high) = within((low, high), field.bounds);
    let span = u64::try_from(high.saturating_sub(low)).unwrap_or(0).saturating_add(1);
    json!(low.saturating_add(i64::try_from(rng.below(span)).unwrap_or(0)))
}

/// A range of integers cut to a schema's `minimum` and `maximum`; when the two do not meet,
/// the ten values from the bound given.
#[allow(clippy::cast_possible_truncation)]
fn within((low, high): (i64, i64), (min, max): (Option<f64>, Option<f64>)) -> (i64, i64) {
    let min = min.map(|m| m.ceil() as i64);
    let max = max.map(|m| m.floor() as i64);
    let l = min.map_or(low, |m| low.max(m));
    let h = max.map_or(high, |m| high.min(m));
    if l <= h {
        return (l, h);
    }
    match (min, max) {
        (Some(a), Some(b)) if a <= b => (a, b.min(a.saturating_add(10))),
        (Some(a), _) => (a, a.saturating_add(10)),
        (None, Some(b)) => (b.saturating_sub(10), b),
        (None, None) => (low, high),
    }
}

/// A number by the field's meaning, within the document's bounds; money with two decimals,
/// never negative.
fn number(name: &str, field: &Field, rng: &mut SplitMix64) -> Value {
    let words = name_words(name);
    let has = |w: &str| words.iter().any(|x| x == w);
    let (low, high, decimals) = if has("lat") || has("latitude") {
        (-90.0, 90.0, 4)
    } else if has("lon") || has("lng") || has("longitude") {
        (-180.0, 180.0, 4)
    } else if has("rating") || has("stars") {
        (1.0, 5.0, 1)
    } else if has("percent") || has("percentage") {
        (0.0, 100.0, 1)
    } else if has("rate") || has("ratio") || has("probability") || has("confidence") || has("weight") && has("factor") {
        (0.0, 1.0, 2)
    } else if has("weight") || has("height") || has("width") || has("length") || has("depth") || has("distance") {
        (0.1, 100.0, 1)
    } else {
        // Money and other amounts.
        (5.0, 500.0, 2)
    };
    let (low, high) = match field.bounds {
        (Some(a), Some(b)) if a <= b => (a, b),
        (Some(a), None) => (a.max(low), a.max(high)),
        (None, Some(b)) => (low.min(b), high.min(b)),
        _ => (low, high),
    };
    let scale = 10f64.powi(decimals);
    json!(((low + rng.unit() * (high - low)) * scale).round() / scale)
}

/// An object: its known properties (two levels deep); a free-form object is empty in data
/// and holds a note in an argument (so that a write with it changes the record).
fn object(collection: &str, field: &Field, k: usize, rng: &mut SplitMix64) -> Value {
    if field.properties.is_empty() {
        return if for_argument(k) { json!({"note": pick(rng, vocab::SENTENCES)}) } else { json!({}) };
    }
    let mut out = Map::new();
    for (p, f) in &field.properties {
        out.insert(p.clone(), value_in(collection, p, f, k, rng));
    }
    Value::Object(out)
}

/// One or two items: of the enum, of the item type, or objects of the items' properties;
/// items of an unknown type give an empty list in data.
fn array(collection: &str, name: &str, field: &Field, k: usize, rng: &mut SplitMix64) -> Value {
    let item = Field {
        kind: field.item.clone().unwrap_or_else(|| {
            if !field.properties.is_empty() {
                "object".to_owned()
            } else if field.choices.is_empty() {
                String::new()
            } else {
                "any".to_owned()
            }
        }),
        format: field.format.clone(),
        choices: field.choices.clone(),
        properties: field.properties.clone(),
        max_length: field.max_length,
        ..Field::default()
    };
    if item.kind.is_empty() {
        return if for_argument(k) { json!([pick(rng, vocab::TAGS)]) } else { json!([]) };
    }
    let singular = ident::singular(name);
    let n = 1 + rng.below(2) as usize;
    let mut items: Vec<Value> = (0..n).map(|i| value_in(collection, &singular, &item, k + i, rng)).collect();
    items.dedup();
    Value::Array(items)
}

/// Generates `n` records per collection; foreign keys point at generated keys of their
/// target (never dangling). Returns collection -> key -> record.
#[must_use]
pub fn generate(collections: &[Collection], n: usize, seed: u64) -> BTreeMap<String, BTreeMap<String, Value>> {
    let all_keys: BTreeMap<&str, Vec<String>> = collections.iter().map(|c| (c.name.as_str(), keys(c, n))).collect();
    let mut out = BTreeMap::new();
    for c in collections {
        let mut rng = SplitMix64::for_stream(seed, &c.name);
        let mut records = BTreeMap::new();
        // Values of naming fields already given in this collection: a name, title, email or
        // code names one record, so a task can find it by that value.
        let mut taken: BTreeMap<&str, std::collections::BTreeSet<String>> = BTreeMap::new();
        for (k, key) in all_keys[c.name.as_str()].iter().enumerate() {
            let mut record = Map::new();
            for (name, field) in &c.fields {
                let v = if let Some(target) = c.foreign_keys.get(name) {
                    // The last records of a collection are never referred to, so a delete
                    // has records it may remove.
                    let targets = &all_keys[target.as_str()];
                    let referable = if targets.len() > 5 { targets.len() - 3 } else { targets.len() };
                    key_value(&targets[rng.below(referable as u64) as usize], &field.kind)
                } else if (*name == c.key || name == "id")
                    && matches!(field.kind.as_str(), "string" | "integer" | "number")
                {
                    // The record's own id, in the field's type (a number field of a
                    // collection with text keys gets the record's position).
                    match key_value(key, &field.kind) {
                        Value::String(_) if matches!(field.kind.as_str(), "integer" | "number") => json!(k + 1),
                        v => v,
                    }
                } else if naming(name) && field.kind == "string" && field.choices.is_empty() {
                    let seen = taken.entry(name.as_str()).or_default();
                    let mut v = value_in(&c.name, name, field, k + 1, &mut rng);
                    for _ in 0..8 {
                        if v.as_str().is_none_or(|s| !seen.contains(s)) {
                            break;
                        }
                        v = value_in(&c.name, name, field, k + 1, &mut rng);
                    }
                    if let Some(text) = v.as_str().filter(|s| seen.contains(*s)) {
                        v = json!(format!("{text} {}", k + 1));
                    }
                    seen.insert(v.as_str().unwrap_or_default().to_owned());
                    v
                } else {
                    value_in(&c.name, name, field, k + 1, &mut rng)
                };
                record.insert(name.clone(), v);
            }
            order_dates(&mut record);
            records.insert(key.clone(), Value::Object(record));
        }
        out.insert(c.name.clone(), records);
    }
    out
}

/// Whether a field names its record (`name`, `title`, `email`, `username`, `code`, `sku`), so
/// its values should differ from record to record.
fn naming(name: &str) -> bool {
    let words = name_words(name);
    words.last().is_some_and(|w| {
        matches!(
            w.as_str(),
            "name" | "title" | "label" | "email" | "username" | "login" | "code" | "sku" | "slug" | "handle"
        )
    })
}

/// Words that open a span of time in a field name, and the words that close it.
const SPAN_OPENS: &[&str] = &["start", "begin", "from", "in", "created", "issued", "departure", "opened", "valid from"];
/// See [`SPAN_OPENS`] (in the same order where the two pair up).
const SPAN_CLOSES: &[&str] = &["end", "finish", "to", "out", "updated", "expires", "arrival", "closed", "until"];

/// Puts paired dates in order: `start`/`end`, `check_in`/`check_out`, `created`/`updated`,
/// `departure`/`arrival`... When both hold ISO dates of one form and the closing one comes
/// first, the two are swapped.
fn order_dates(record: &mut Map<String, Value>) {
    let names: Vec<String> = record.keys().cloned().collect();
    let role = |name: &str| -> Option<(String, bool)> {
        let words = name_words(name);
        let rest = |skip: &str| words.iter().filter(|w| w.as_str() != skip).cloned().collect::<Vec<_>>().join(" ");
        for w in &words {
            if SPAN_OPENS.contains(&w.as_str()) {
                return Some((rest(w), true));
            }
            if SPAN_CLOSES.contains(&w.as_str()) {
                return Some((rest(w), false));
            }
        }
        None
    };
    for open in &names {
        let Some((rest, true)) = role(open) else { continue };
        for close in &names {
            if role(close) != Some((rest.clone(), false)) {
                continue;
            }
            let (Some(Value::String(a)), Some(Value::String(b))) = (record.get(open), record.get(close)) else {
                continue;
            };
            if looks_like_date(a) && looks_like_date(b) && a.len() == b.len() && b < a {
                let (a, b) = (a.clone(), b.clone());
                record.insert(open.clone(), Value::String(b));
                record.insert(close.clone(), Value::String(a));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use indexmap::IndexMap;

    fn field(kind: &str) -> Field {
        Field { kind: kind.to_owned(), ..Field::default() }
    }

    fn collection(name: &str, fields: &[(&str, Field)]) -> Collection {
        Collection {
            name: name.to_owned(),
            key: "id".to_owned(),
            numeric_key: false,
            fields: fields.iter().map(|(n, f)| ((*n).to_owned(), f.clone())).collect::<IndexMap<_, _>>(),
            foreign_keys: BTreeMap::new(),
        }
    }

    #[test]
    fn paired_dates_come_in_order_and_counts_stay_small() {
        let date = Field { format: Some("date".into()), ..field("string") };
        let c = collection(
            "reservations",
            &[
                ("check_in", date.clone()),
                ("check_out", date.clone()),
                ("startDate", date.clone()),
                ("endDate", date),
                ("createdAt", field("string")),
                ("updatedAt", field("string")),
                ("adults", field("integer")),
                ("rooms", field("integer")),
                ("cancellation_fee", field("number")),
            ],
        );
        let data = generate(&[c], 50, 7);
        for r in data["reservations"].values() {
            for (a, b) in [("check_in", "check_out"), ("startDate", "endDate"), ("createdAt", "updatedAt")] {
                assert!(r[a].as_str().unwrap() <= r[b].as_str().unwrap(), "{a} after {b}: {r}");
            }
            for n in ["adults", "rooms"] {
                assert!((0..=12).contains(&r[n].as_i64().unwrap()), "{n}: {r}");
            }
            assert!(r["cancellation_fee"].as_f64().unwrap() >= 0.0, "{r}");
        }
    }

    #[test]
    fn the_documents_examples_defaults_and_bounds_come_first() {
        let code = Field { example: Some(json!("ACC-12345")), ..field("string") };
        let port = Field { bounds: (Some(5.0), Some(8.0)), ..field("integer") };
        let kind = Field { default: Some(json!("retail")), ..field("string") };
        let filler = Field { example: Some(json!("sample email")), ..field("string") };
        let c = collection("accounts", &[("code", code), ("port", port), ("kind", kind), ("contact_email", filler)]);
        let data = generate(&[c], 12, 1);
        let records: Vec<&Value> = data["accounts"].values().collect();
        assert_eq!(records[0]["code"], "ACC-12345");
        for r in &records {
            let code = r["code"].as_str().unwrap();
            assert!(
                code.starts_with("ACC-") && code.len() == 9 && code[4..].chars().all(|c| c.is_ascii_digit()),
                "{r}"
            );
            assert!((5..=8).contains(&r["port"].as_i64().unwrap()), "{r}");
            assert!(r["contact_email"].as_str().unwrap().ends_with("@example.com"), "{r}");
        }
        assert!(records.iter().filter(|r| r["kind"] == "retail").count() >= 4);
    }

    #[test]
    fn names_follow_what_the_collection_holds_and_nothing_is_a_placeholder() {
        let address = Field {
            properties: vec![("street".into(), field("string")), ("city".into(), field("string"))],
            ..field("object")
        };
        let collections = [
            collection("customers", &[("name", field("string")), ("address", address)]),
            collection("products", &[("name", field("string")), ("description", field("string"))]),
            collection("companies", &[("name", field("string")), ("metadata", field("object"))]),
            collection("directory_roles", &[("@odata.type", field("string"))]),
        ];
        let data = generate(&collections, 20, 3);
        for r in data["directory_roles"].values() {
            assert_eq!(r["@odata.type"], "#microsoft.graph.directoryRole", "{r}");
        }
        let people: Vec<String> = vocab::FIRST.iter().map(|f| format!("{f} ")).collect();
        for r in data["customers"].values() {
            assert!(people.iter().any(|p| r["name"].as_str().unwrap().starts_with(p.as_str())), "{r}");
            assert!(r["address"]["street"].is_string() && r["address"]["city"].is_string(), "{r}");
        }
        for r in data["products"].values() {
            assert!(vocab::PRODUCTS.iter().any(|p| r["name"].as_str().unwrap().ends_with(p)), "{r}");
        }
        for r in data["companies"].values() {
            assert!(vocab::COMPANY_KINDS.iter().any(|k| r["name"].as_str().unwrap().ends_with(k)), "{r}");
            assert_eq!(r["metadata"], json!({}), "a free-form object is empty, not a stub: {r}");
        }
        let quality = crate::report::DataQuality::of(data.values().flat_map(BTreeMap::values));
        assert_eq!((quality.placeholders, quality.stubs), (0, 0), "{quality:?}");
        assert!(quality.strings > 100);
    }

    #[test]
    fn placeholders_are_made_up_words_with_numbers_or_a_documents_filler() {
        for p in ["harbor-3", "ember juniper fjord note 4", "string", "sample email", "Sample first_name"] {
            assert!(is_placeholder(p), "{p}");
        }
        for real in ["ACC-0001", "Harbor Road", "Lisbon", "2026-03-01", "Granite Labs", "v2-3", "stringent"] {
            assert!(!is_placeholder(real), "{real}");
        }
    }
}
