//! SLO id patterns: `*` is any run of characters (also none), `?` exactly one; everything else
//! stands for itself.

/// Whether `text` matches `pattern` as a whole.
pub fn matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative wildcard matching with one backtrack point (the last `*`): linear in practice.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Whether `pattern` holds a wildcard (else it names one id exactly).
pub fn is_pattern(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn stars_and_question_marks() {
        assert!(matches("checkout-*", "checkout-availability"));
        assert!(matches("checkout-*", "checkout-"));
        assert!(!matches("checkout-*", "checkout"));
        assert!(matches("*-latency", "api-latency"));
        assert!(matches("a*b*c", "a-x-b-y-c"));
        assert!(!matches("a*b*c", "a-x-c-y-b"));
        assert!(matches("api-v?", "api-v2"));
        assert!(!matches("api-v?", "api-v10"));
        assert!(matches("api-availability", "api-availability"));
        assert!(!matches("api-availability", "api-availability2"));
        assert!(matches("*", ""));
    }
}
