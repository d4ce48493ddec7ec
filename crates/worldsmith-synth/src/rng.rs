//! Random choices for synthesis, drawn from the shared generator.

use worldsmith_core::rng::SplitMix64;

/// The shared generator ([`SplitMix64`]) with the choices synthesis makes.
#[derive(Debug, Clone)]
pub(crate) struct Rng(SplitMix64);

impl Rng {
    /// A generator for one labelled stream (a world, a task) under `seed`.
    pub(crate) fn for_stream(seed: u64, label: &str) -> Rng {
        Rng(SplitMix64::for_stream(seed, label))
    }

    #[cfg(test)]
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// A uniform integer in `0..n` (`n > 0`), without modulo bias.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.0.below(n as u64)).unwrap_or(0)
    }

    /// A uniform integer in `low..=high`.
    pub(crate) fn range(&mut self, low: usize, high: usize) -> usize {
        low + self.below(high - low + 1)
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.0.unit() < p
    }

    /// One element, uniformly; `None` for an empty slice.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() { None } else { Some(&items[self.below(items.len())]) }
    }

    /// Shuffles in place (Fisher-Yates).
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn streams_are_stable_and_independent() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = Rng::for_stream(7, "retail");
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map({
                let mut r = Rng::for_stream(7, "retail");
                move |_| r.next_u64()
            })
            .collect();
        let c = Rng::for_stream(7, "bank").next_u64();
        assert_eq!(a, b);
        assert_ne!(a[0], c);
        let mut r = Rng::for_stream(1, "x");
        for _ in 0..1000 {
            let x = r.range(2, 8);
            assert!((2..=8).contains(&x));
        }
    }
}
