//! "Did you mean ...?" for misspelt keys.

/// The candidate closest to `word` by edit distance, if it is close enough to be a likely typo
/// (at most a third of the word's length, at least one edit allowed, and never a complete
/// rewrite: `c` does not suggest `a`).
pub(crate) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let len = word.chars().count();
    let limit = (len / 3).max(1).min(len.saturating_sub(1));
    candidates
        .iter()
        .map(|c| {
            (
                distance(&word.to_ascii_lowercase(), &c.to_ascii_lowercase()),
                *c,
            )
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance counting an adjacent swap as one edit (optimal string alignment).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: [&str; 4] = ["objective", "service", "name", "interval"];

    #[test]
    fn suggests_close_keys() {
        assert_eq!(closest("objectiv", &KEYS), Some("objective"));
        assert_eq!(closest("servcie", &KEYS), Some("service"));
        assert_eq!(closest("Name", &KEYS), Some("name"));
        assert_eq!(closest("intervall", &KEYS), Some("interval"));
    }

    #[test]
    fn stays_quiet_when_nothing_is_close() {
        assert_eq!(closest("colour", &KEYS), None);
        assert_eq!(closest("x", &KEYS), None);
        assert_eq!(closest("c", &["a", "b"]), None);
        assert_eq!(closest("aa", &["a", "b"]), Some("a"));
    }
}
