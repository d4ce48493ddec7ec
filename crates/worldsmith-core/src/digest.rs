//! The state digest: an order-independent 128-bit multiset hash of records.
//!
//! A record's hash is BLAKE3 over its collection name, its key and its canonical JSON
//! ([`crate::canonical`]), framed as
//! `u64-le(len(collection)) ‖ collection ‖ u64-le(len(key)) ‖ key ‖ canonical-json`,
//! truncated to its first 16 bytes read as a little-endian `u128`. A state's digest is the
//! wrapping sum of its records' hashes modulo 2^128, printed as 32 lowercase hex digits.
//!
//! Because the sum is commutative and invertible, a digest is maintained incrementally:
//! a write subtracts the old record's hash and adds the new one, and two states are compared
//! in O(1).

use crate::canonical::write_canonical;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::str::FromStr;

/// A 128-bit state or record digest. `Digest::default()` is the digest of the empty state.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Digest(pub u128);

impl Digest {
    /// The hash of one record: `value` stored under `key` in `collection`. The canonical
    /// text is built in a reused per-thread buffer and hashed in one update.
    #[must_use]
    pub fn of_record(collection: &str, key: &str, value: &Value) -> Digest {
        thread_local! {
            static BUFFER: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
        }
        BUFFER.with(|buffer| match buffer.try_borrow_mut() {
            Ok(mut text) => {
                text.clear();
                write_canonical(value, &mut *text);
                Digest::of_canonical(collection, key, &text)
            }
            // Re-entered (cannot happen today): fall back to a fresh string.
            Err(_) => Digest::of_canonical(collection, key, &crate::canonical::canonical_json(value)),
        })
    }

    fn framed(collection: &str, key: &str) -> blake3::Hasher {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&(collection.len() as u64).to_le_bytes());
        hasher.update(collection.as_bytes());
        hasher.update(&(key.len() as u64).to_le_bytes());
        hasher.update(key.as_bytes());
        hasher
    }

    fn finish(hasher: &blake3::Hasher) -> Digest {
        let bytes = hasher.finalize();
        let mut first = [0u8; 16];
        first.copy_from_slice(&bytes.as_bytes()[..16]);
        Digest(u128::from_le_bytes(first))
    }

    /// The hash of one record whose canonical JSON text is already known.
    #[must_use]
    pub fn of_canonical(collection: &str, key: &str, canonical: &str) -> Digest {
        let mut hasher = Self::framed(collection, key);
        hasher.update(canonical.as_bytes());
        Self::finish(&hasher)
    }

    /// The 32-digit lowercase hex form.
    #[must_use]
    pub fn to_hex(self) -> String {
        format!("{:032x}", self.0)
    }
}

impl Add for Digest {
    type Output = Digest;
    fn add(self, rhs: Digest) -> Digest {
        Digest(self.0.wrapping_add(rhs.0))
    }
}

impl Sub for Digest {
    type Output = Digest;
    fn sub(self, rhs: Digest) -> Digest {
        Digest(self.0.wrapping_sub(rhs.0))
    }
}

impl AddAssign for Digest {
    fn add_assign(&mut self, rhs: Digest) {
        *self = *self + rhs;
    }
}

impl SubAssign for Digest {
    fn sub_assign(&mut self, rhs: Digest) {
        *self = *self - rhs;
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({:032x})", self.0)
    }
}

/// Why a text is not a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseDigestError(String);

impl fmt::Display for ParseDigestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a digest (32 lowercase hex digits): {:?}", self.0)
    }
}

impl std::error::Error for ParseDigestError {}

impl FromStr for Digest {
    type Err = ParseDigestError;
    fn from_str(s: &str) -> Result<Digest, ParseDigestError> {
        if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return Err(ParseDigestError(s.to_owned()));
        }
        u128::from_str_radix(s, 16).map(Digest).map_err(|_| ParseDigestError(s.to_owned()))
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Digest, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_values_hash_equal() {
        let a = Digest::of_record("c", "k", &json!({"x": 3, "y": [1.0]}));
        let b = Digest::of_record("c", "k", &serde_json::from_str(r#"{"y":[1],"x":3.0}"#).unwrap());
        assert_eq!(a, b);
        assert_ne!(a, Digest::of_record("c", "k2", &json!({"x": 3, "y": [1.0]})));
        // Framing keeps collection and key apart.
        assert_ne!(Digest::of_record("ab", "c", &json!(1)), Digest::of_record("a", "bc", &json!(1)));
    }

    #[test]
    fn hex_round_trip() {
        let d = Digest::of_record("c", "k", &json!(null));
        assert_eq!(d.to_hex().len(), 32);
        assert_eq!(d.to_hex().parse::<Digest>().unwrap(), d);
        assert!("XYZ".parse::<Digest>().is_err());
        assert!("0123456789ABCDEF0123456789abcdef".parse::<Digest>().is_err());
    }
}
