//! "Did you mean" suggestions: the candidate closest to a misspelt name.

/// The candidate closest to `name` by edit distance (case-insensitive), when it is within
/// `max(slack, len / 3)` edits of it; ties go to the first in sorted order.
#[must_use]
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>, slack: usize) -> Option<&'a str> {
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (edit_distance(&lower, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= slack.max(c.len() / 3))
        .min()
        .map(|(_, c)| c)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_name_finds_its_closest() {
        assert_eq!(closest("retial", ["airline", "bank", "retail", "telecom"], 2), Some("retail"));
        assert_eq!(closest("zzzzzz", ["airline", "bank"], 2), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
