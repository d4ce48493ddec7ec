//! The words generated data is made of: people, companies, products, places, sentences. Small
//! lists, written for this repository; values are combined from them by seed.

/// Given names.
pub const FIRST: &[&str] = &[
    "Ada", "Bruno", "Chen", "Dalia", "Emeka", "Farah", "Goran", "Hana", "Iker", "Juno", "Kofi", "Lena", "Mateo",
    "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sami", "Tomas", "Uma", "Viktor", "Wen", "Yara",
];

/// Family names.
pub const LAST: &[&str] = &[
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Tanaka",
    "Alvarez",
    "Novak",
    "Haddad",
    "Kowalski",
    "Singh",
    "Reyes",
    "Fischer",
    "Mensah",
    "Ivanova",
    "Costa",
    "Nakamura",
    "O'Brien",
    "Petrov",
    "Silva",
    "Weber",
    "Yilmaz",
];

/// The first word of a company name.
pub const COMPANY_STEMS: &[&str] = &[
    "Northwind",
    "Bluefield",
    "Cobalt",
    "Evergreen",
    "Granite",
    "Harborview",
    "Ironbridge",
    "Lakeside",
    "Meridian",
    "Oakridge",
    "Pinecrest",
    "Redwood",
    "Silverline",
    "Summit",
    "Westbrook",
    "Brightwater",
];

/// The last word of a company name.
pub const COMPANY_KINDS: &[&str] = &[
    "Logistics",
    "Labs",
    "Trading Co.",
    "Systems",
    "Foods",
    "Health",
    "Analytics",
    "Outfitters",
    "Media",
    "Partners",
    "Energy",
    "Studios",
];

/// Adjectives of product names and titles.
pub const ADJECTIVES: &[&str] = &[
    "Classic",
    "Compact",
    "Deluxe",
    "Essential",
    "Lightweight",
    "Premium",
    "Portable",
    "Wireless",
    "Organic",
    "Ergonomic",
    "Vintage",
    "Smart",
];

/// Nouns of product names.
pub const PRODUCTS: &[&str] = &[
    "Backpack",
    "Desk Lamp",
    "Water Bottle",
    "Headphones",
    "Notebook",
    "Coffee Grinder",
    "Running Shoes",
    "Blender",
    "Office Chair",
    "Phone Case",
    "Rain Jacket",
    "Yoga Mat",
    "Kettle",
    "Keyboard",
    "Sunglasses",
    "Tent",
];

/// Words that qualify a named thing of no known kind ("Quarterly report").
pub const QUALIFIERS: &[&str] = &[
    "Primary",
    "Quarterly",
    "Regional",
    "Default",
    "Weekly",
    "Internal",
    "Customer",
    "Seasonal",
    "Annual",
    "Priority",
    "Standard",
    "Shared",
];

/// Cities, with their country codes.
pub const CITIES: &[(&str, &str)] = &[
    ("Lisbon", "PT"),
    ("Nairobi", "KE"),
    ("Osaka", "JP"),
    ("Toronto", "CA"),
    ("Lyon", "FR"),
    ("Austin", "US"),
    ("Pune", "IN"),
    ("Tallinn", "EE"),
    ("Quito", "EC"),
    ("Perth", "AU"),
    ("Hamburg", "DE"),
    ("Valencia", "ES"),
];

/// Street names.
pub const STREETS: &[&str] = &[
    "Maple Street",
    "Harbor Road",
    "Elm Avenue",
    "Station Road",
    "Hillside Drive",
    "Market Street",
    "Park Lane",
    "River Walk",
    "Cedar Court",
    "Mill Road",
];

/// Sentences for descriptions, notes and messages.
pub const SENTENCES: &[&str] = &[
    "Requested by the customer during the last call.",
    "Follow up with the finance team before the end of the month.",
    "Delivered to the front desk; signature on file.",
    "Renewed for another year at the same rate.",
    "Waiting on a reply from the supplier.",
    "Priority handling was requested.",
    "Updated after the annual review.",
    "Approved by the regional manager.",
    "Please keep the original packaging.",
    "Created during the spring campaign.",
    "Contact by email only, not by phone.",
    "Scheduled to be reviewed next quarter.",
];

/// Tags and labels.
pub const TAGS: &[&str] =
    &["urgent", "vip", "new", "seasonal", "wholesale", "returning", "gift", "bulk", "trial", "partner"];

/// Kinds and types of no known vocabulary.
pub const KINDS: &[&str] = &["standard", "express", "basic", "premium", "internal", "external"];

/// Statuses.
pub const STATUSES: &[&str] = &["active", "pending", "inactive", "completed", "cancelled"];

/// Product categories.
pub const CATEGORIES: &[&str] = &["electronics", "books", "home", "garden", "sports", "clothing", "toys", "grocery"];

/// Currencies.
pub const CURRENCIES: &[&str] = &["USD", "EUR", "JPY", "GBP", "CAD", "INR"];

/// Locales (language tags).
pub const LOCALES: &[&str] = &["en-US", "fr-FR", "ja-JP", "pt-BR", "de-DE", "es-ES"];

/// Time zones.
pub const TIME_ZONES: &[&str] =
    &["Europe/Lisbon", "Africa/Nairobi", "Asia/Tokyo", "America/Toronto", "Europe/Paris", "America/Chicago"];

/// Colours.
pub const COLORS: &[&str] = &["red", "blue", "green", "black", "white", "orange", "purple", "grey"];

/// The words of generated values before realistic data: `harbor-3`, `ember juniper note 4`.
/// A string made of them with a number is what [`crate::data::is_placeholder`] counts.
pub const PLACEHOLDER_WORDS: &[&str] =
    &["alpha", "bright", "cedar", "delta", "ember", "fjord", "granite", "harbor", "indigo", "juniper"];
