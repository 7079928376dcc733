//! FNV-1a (64 bit): the one hash burnwatch uses where a value must be stable across processes,
//! versions and replicas (dedup keys, fingerprints, tick offsets, series ids). `std`'s hashers
//! are randomly seeded or unspecified, so they cannot serve here.

/// An FNV-1a hasher; feed it bytes, then read [`Fnv1a::finish`].
#[derive(Debug, Clone, Copy)]
pub struct Fnv1a(u64);

impl Fnv1a {
    /// The offset basis.
    pub const fn new() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }

    /// Feeds `bytes`.
    pub fn write(&mut self, bytes: &[u8]) -> &mut Self {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        self
    }

    /// The hash of everything fed so far.
    pub fn finish(&self) -> u64 {
        self.0
    }
}

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a::new()
    }
}

/// FNV-1a of `bytes`.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    Fnv1a::new().write(bytes).finish()
}

/// FNV-1a of a label set, in the order given (sorted, for a map): each name and each value is
/// followed by `0xff`, a byte UTF-8 text never holds, so no two label sets feed the same bytes.
/// The one label-set hash: series ids of the scheduler's counter trackers and the `fingerprint`
/// of alerts sent to webhooks.
pub fn label_set_hash<'a>(labels: impl IntoIterator<Item = (&'a str, &'a str)>) -> u64 {
    let mut hasher = Fnv1a::new();
    for (name, value) in labels {
        hasher
            .write(name.as_bytes())
            .write(&[0xff])
            .write(value.as_bytes())
            .write(&[0xff]);
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_vectors() {
        // From the FNV reference test suite (64-bit FNV-1a).
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
        assert_eq!(
            Fnv1a::new().write(b"foo").write(b"bar").finish(),
            fnv1a(b"foobar")
        );
    }

    #[test]
    fn label_sets_hash_apart_wherever_the_bytes_move() {
        let hash = |set: &[(&'static str, &'static str)]| label_set_hash(set.iter().copied());
        assert_eq!(hash(&[("a", "b")]), fnv1a(b"a\xffb\xff"));
        assert_ne!(hash(&[("a", "bc")]), hash(&[("ab", "c")]));
        assert_ne!(
            hash(&[("a", ""), ("b", "c")]),
            hash(&[("a", "b"), ("c", "")])
        );
        assert_ne!(hash(&[]), hash(&[("", "")]));
    }
}
