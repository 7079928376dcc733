//! Sharding SLOs over replicas: each replica owns the SLOs whose stable hash of id falls in its
//! shard (`--shard-count N --shard-index I`, or `I` from a StatefulSet pod name's ordinal).
//!
//! The shard of an SLO is Lamping and Veach's jump consistent hash of its id (FNV-1a, then
//! MurmurHash3's 64-bit finaliser: FNV's low bits alone split similar ids unevenly). Stable
//! across versions, platforms and restarts, so an SLO stays with its replica (and its state
//! snapshot) while the count is unchanged; going from N to N+1 replicas moves only about
//! 1/(N+1) of the SLOs. All instances of a grouped SLO live on the same replica.

use burnwatch_engine::fnv1a;
use burnwatch_spec::Config;

use crate::failure::Failure;

/// Which part of the SLOs this process evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u64,
    count: u64,
}

impl Shard {
    /// From the command line: `count` shards, this one `index`, or when absent the ordinal at
    /// the end of `hostname` (`burnwatch-2` is shard 2, as a StatefulSet names its pods).
    pub fn resolve(
        index: Option<u64>,
        count: u64,
        hostname: Option<&str>,
    ) -> Result<Shard, Failure> {
        if count == 0 {
            return Err(Failure::Usage(
                "--shard-count must be at least 1 (1: this replica evaluates every SLO)".into(),
            ));
        }
        let index = match index {
            Some(index) => index,
            None if count == 1 => 0,
            None => ordinal(hostname).ok_or_else(|| {
                Failure::Usage(format!(
                    "--shard-count {count} needs --shard-index, or a host name ending in the \
                     pod ordinal as a StatefulSet gives it (e.g. burnwatch-0); HOSTNAME is {}",
                    hostname.map_or("not set".to_string(), |h| format!("{h:?}"))
                ))
            })?,
        };
        if index >= count {
            return Err(Failure::Usage(format!(
                "shard index {index} is not below --shard-count {count}: indexes run from 0 to {}",
                count - 1
            )));
        }
        Ok(Shard { index, count })
    }

    /// Whether this shard evaluates the SLO `id`.
    pub fn owns(&self, id: &str) -> bool {
        jump(fmix64(fnv1a(id.as_bytes())), self.count) == self.index
    }

    /// `config` with only the SLOs this shard owns (receivers, routes and backends stay).
    pub fn select(&self, mut config: Config) -> Config {
        if self.count > 1 {
            config.slos.retain(|slo| self.owns(&slo.id));
        }
        config
    }

    /// `index/count`, for logs.
    pub fn describe(&self) -> String {
        format!("{} of {}", self.index, self.count)
    }

    /// This replica's index (0 when not split): shard 0 sends the digests.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// Whether SLOs are split at all.
    pub fn is_split(&self) -> bool {
        self.count > 1
    }
}

/// MurmurHash3's 64-bit finaliser: every input bit affects every output bit.
fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

/// Jump consistent hash (Lamping and Veach, 2014): the bucket of `key` among `buckets`.
fn jump(mut key: u64, buckets: u64) -> u64 {
    let (mut b, mut j) = (-1i64, 0i64);
    while j < buckets as i64 {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    b as u64
}

/// `burnwatch-2` -> 2.
fn ordinal(hostname: Option<&str>) -> Option<u64> {
    let (_, digits) = hostname?.trim().rsplit_once('-')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(result: Result<Shard, Failure>) -> String {
        match result {
            Err(Failure::Usage(message)) => message,
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn the_index_comes_from_the_flag_or_the_statefulset_ordinal() {
        assert_eq!(
            Shard::resolve(Some(1), 3, Some("web-7")).unwrap(),
            Shard { index: 1, count: 3 }
        );
        assert_eq!(
            Shard::resolve(None, 3, Some("burnwatch-2")).unwrap(),
            Shard { index: 2, count: 3 }
        );
        assert!(
            usage(Shard::resolve(None, 4, Some("my-release-burnwatch-10")))
                .contains("10 is not below --shard-count 4")
        );
        assert_eq!(
            Shard::resolve(None, 1, None).unwrap(),
            Shard { index: 0, count: 1 }
        );
        let message = usage(Shard::resolve(None, 3, Some("burnwatch-5f9c7d")));
        assert!(message.contains("--shard-index"), "{message}");
        assert!(message.contains("\"burnwatch-5f9c7d\""), "{message}");
        assert!(usage(Shard::resolve(None, 2, None)).contains("HOSTNAME is not set"));
        assert!(usage(Shard::resolve(Some(3), 3, None)).contains("0 to 2"));
        assert!(usage(Shard::resolve(Some(0), 0, None)).contains("at least 1"));
    }

    #[test]
    fn every_slo_has_exactly_one_owner_and_shards_are_balanced() {
        let ids: Vec<String> = (0..3000)
            .map(|i| format!("service-{}-slo-{}", i % 97, i))
            .collect();
        for count in [2u64, 3, 5] {
            let shards: Vec<Shard> = (0..count)
                .map(|index| Shard::resolve(Some(index), count, None).unwrap())
                .collect();
            let mut sizes = vec![0usize; count as usize];
            for id in &ids {
                let owners: Vec<usize> =
                    (0..shards.len()).filter(|&s| shards[s].owns(id)).collect();
                assert_eq!(owners.len(), 1, "{id} owned by {owners:?} of {count}");
                sizes[owners[0]] += 1;
            }
            let even = ids.len() / count as usize;
            for size in &sizes {
                assert!(
                    size.abs_diff(even) * 10 < even,
                    "{count} shards: sizes {sizes:?}, even {even}"
                );
            }
        }
    }

    #[test]
    fn ownership_is_pinned_to_reference_values() {
        // From an independent implementation of the same three steps, checked against FNV-1a's
        // published vectors ("a" = 0xaf63dc4c8601ec8c, "foobar" = 0x85944171f73967e8): a change
        // of hash would move SLOs between replicas on upgrade and lose their state snapshots.
        let owner = |id: &str, count: u64| {
            (0..count)
                .find(|&index| Shard { index, count }.owns(id))
                .unwrap()
        };
        assert_eq!((owner("a", 3), owner("foobar", 3)), (1, 1));
        assert_eq!((owner("a", 5), owner("foobar", 5)), (3, 3));
    }

    #[test]
    fn one_more_replica_moves_few_slos() {
        let ids: Vec<String> = (0..3000)
            .map(|i| format!("team-{}-slo-{i}", i % 13))
            .collect();
        for count in [1u64, 3, 7] {
            let owner = |id: &str, count: u64| {
                (0..count)
                    .find(|&index| Shard { index, count }.owns(id))
                    .unwrap()
            };
            let moved = ids
                .iter()
                .filter(|id| owner(id, count) != owner(id, count + 1))
                .count();
            // Ideal: 1/(count+1); a modulo hash would move count/(count+1).
            let ideal = ids.len() as f64 / (count + 1) as f64;
            assert!(
                (moved as f64) < ideal * 1.15,
                "{count} -> {}: {moved} of {} moved, ideal {ideal}",
                count + 1,
                ids.len()
            );
        }
    }
}
