//! An instance's state as rows that change apart: its frame (sums, clock, data state and alert
//! states: small, new at every snapshot) and its bucket rings in chunks of [`CHUNK_SLOTS`]
//! buckets (nearly all its bytes; a bucket keeps its slot in the ring, so between two snapshots
//! only the chunks holding the newest buckets change, one or two per level).
//!
//! The [`Encoder`] of an SLO task remembers a hash of every chunk it handed over and encodes only
//! the chunks whose buckets changed since. Encodings: the frame as JSON (the engine's serde
//! model, which a non-self-describing format cannot carry: untagged and skipped fields), the
//! chunks as postcard ([`Chunk`]: whole numbers as varints). Live bucket counts are whole
//! numbers and errors mostly zero, so a bucket of 16 bytes in memory takes 3 to 5 on disk; any
//! other count keeps its exact 8 bytes, and a chunk holding some is deflated ([`Packed`]).
//! Frames are deflated (flate2).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hasher as _};

use burnwatch_engine::{Alerts, Counts, Millis, SloState};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use serde::{Deserialize, Serialize};

use crate::counting::GroupKey;

/// Buckets per chunk: 1 KiB of counts before compression.
pub const CHUNK_SLOTS: usize = 64;

/// Deflate level (zlib's 1 to 9).
const LEVEL: u32 = 1;

/// A decoded row larger than this is refused (a corrupt length, not a state).
const MAX_DECODED_BYTES: usize = 16 << 20;

/// One SLO's state as the task hands it over: every instance, with the rows that changed.
#[derive(Debug)]
pub struct Handover {
    /// The definition's fingerprint.
    pub fingerprint: String,
    /// Events up to here are in the state.
    pub ingested_until: Millis,
    /// Every instance the SLO holds now (the others are gone).
    pub instances: Vec<InstanceRows>,
}

/// One instance's rows in a handover.
#[derive(Debug)]
pub struct InstanceRows {
    /// Group label values.
    pub group: GroupKey,
    /// The encoded frame (always: it changes at every tick).
    pub frame: Vec<u8>,
    /// Chunks per level, finest first.
    pub layout: Vec<u32>,
    /// The changed chunks, by position in all the instance's chunks (level by level).
    pub chunks: Vec<(usize, Vec<u8>)>,
}

/// What a chunk row holds: every count of its buckets (errors, then totals) as a whole number,
/// a varint of 1 to 8 bytes, and apart the few that are not whole numbers, exactly.
#[derive(Serialize, Deserialize)]
struct Chunk {
    /// Errors of every bucket, then totals; 0 where `exact` holds the count.
    whole: Vec<u64>,
    /// Position in `whole` and value of every count that is no whole number (to the bit: -0.0,
    /// fractions, NaN, beyond 2^53).
    exact: Vec<(u32, f64)>,
}

impl Chunk {
    fn of(buckets: &[Counts]) -> Chunk {
        let mut chunk = Chunk {
            whole: Vec::with_capacity(2 * buckets.len()),
            exact: Vec::new(),
        };
        let counts = buckets.iter().map(|c| c.errors);
        for value in counts.chain(buckets.iter().map(|c| c.total)) {
            // A cast saturates (and takes NaN to 0); the round trip decides, to the bit.
            let whole = value as u64;
            if whole < 1 << 53 && (whole as f64).to_bits() == value.to_bits() {
                chunk.whole.push(whole);
            } else {
                chunk.exact.push((chunk.whole.len() as u32, value));
                chunk.whole.push(0);
            }
        }
        chunk
    }

    fn buckets(self) -> Result<Vec<Counts>, String> {
        let mut values: Vec<f64> = self.whole.iter().map(|&n| n as f64).collect();
        for (at, value) in self.exact {
            *values
                .get_mut(at as usize)
                .ok_or("chunk with a count out of place")? = value;
        }
        if !values.len().is_multiple_of(2) {
            return Err("chunk with more errors than totals, or fewer".into());
        }
        let (errors, total) = values.split_at(values.len() / 2);
        Ok(errors
            .iter()
            .zip(total)
            .map(|(&errors, &total)| Counts { errors, total })
            .collect())
    }
}

/// A chunk row: the chunk itself when every count is a whole number (live counting, where a
/// bucket holds counter differences), deflated when some are not (backfill spreads coarse
/// points over finer buckets: fractions, whose 8 bytes deflate well).
#[derive(Serialize, Deserialize)]
enum Packed {
    Plain(Chunk),
    Deflated(Vec<u8>),
}

/// What a frame row holds.
#[derive(Serialize)]
struct FrameRef<'a> {
    state: &'a SloState,
    alerts: &'a Alerts,
}

#[derive(Deserialize)]
struct Frame {
    state: SloState,
    alerts: Alerts,
}

/// Encodes an SLO's instances, skipping the chunks that did not change since the last handover.
pub struct Encoder {
    /// Chunk hashes of every instance as last handed over.
    hashes: HashMap<GroupKey, Vec<u64>>,
    compress: Compress,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("instances", &self.hashes.len())
            .finish_non_exhaustive()
    }
}

impl Default for Encoder {
    fn default() -> Self {
        Encoder {
            hashes: HashMap::new(),
            compress: Compress::new(Compression::new(LEVEL), false),
        }
    }
}

impl Encoder {
    /// Forgets what was handed over: the next handover carries every chunk.
    pub fn clear(&mut self) {
        self.hashes.clear();
    }

    /// Takes `instances` as handed over already (a state just restored from the snapshot), so
    /// the next handover carries only what changed since.
    pub fn remember<'a>(&mut self, instances: impl Iterator<Item = (&'a GroupKey, &'a SloState)>) {
        self.hashes = instances
            .map(|(group, state)| (group.clone(), chunk_hashes(state)))
            .collect();
    }

    /// The handover of `instances`: every frame, and the chunks that changed.
    pub fn encode<'a>(
        &mut self,
        fingerprint: &str,
        ingested_until: Millis,
        instances: impl Iterator<Item = (&'a GroupKey, &'a SloState, &'a Alerts)>,
    ) -> Handover {
        let mut hashes = HashMap::with_capacity(self.hashes.len());
        let mut rows = Vec::with_capacity(self.hashes.len());
        for (group, state, alerts) in instances {
            let frame = serde_json::to_vec(&FrameRef {
                state: &state.frame(),
                alerts,
            })
            .expect("engine state serialises");
            let frame = deflate(&mut self.compress, &frame);
            let before = self.hashes.remove(group).unwrap_or_default();
            let mut now = Vec::with_capacity(before.len());
            let mut chunks = Vec::new();
            let mut layout = Vec::new();
            for ring in state.bucket_rings() {
                layout.push(ring.chunks(CHUNK_SLOTS).len() as u32);
                for chunk in ring.chunks(CHUNK_SLOTS) {
                    let hash = hash(chunk);
                    let at = now.len();
                    if before.get(at) != Some(&hash) {
                        chunks.push((at, self.pack(chunk)));
                    }
                    now.push(hash);
                }
            }
            rows.push(InstanceRows {
                group: group.clone(),
                frame,
                layout,
                chunks,
            });
            hashes.insert(group.clone(), now);
        }
        self.hashes = hashes;
        Handover {
            fingerprint: fingerprint.to_string(),
            ingested_until,
            instances: rows,
        }
    }
}

impl Encoder {
    fn pack(&mut self, buckets: &[Counts]) -> Vec<u8> {
        let chunk = Chunk::of(buckets);
        let packed = if chunk.exact.is_empty() {
            Packed::Plain(chunk)
        } else {
            let bytes = postcard::to_allocvec(&chunk).expect("counts serialise");
            Packed::Deflated(deflate(&mut self.compress, &bytes))
        };
        postcard::to_allocvec(&packed).expect("counts serialise")
    }
}

/// The hash of every chunk of `state`, level by level.
fn chunk_hashes(state: &SloState) -> Vec<u64> {
    state
        .bucket_rings()
        .into_iter()
        .flat_map(|ring| ring.chunks(CHUNK_SLOTS).map(hash))
        .collect()
}

/// SipHash of the counts' bits: a changed chunk goes unnoticed with odds of 2^-64.
fn hash(chunk: &[Counts]) -> u64 {
    let mut hasher = DefaultHasher::new();
    for counts in chunk {
        hasher.write_u64(counts.errors.to_bits());
        hasher.write_u64(counts.total.to_bits());
    }
    hasher.finish()
}

/// Raw deflate of `bytes`.
fn deflate(compress: &mut Compress, bytes: &[u8]) -> Vec<u8> {
    compress.reset();
    let mut out = Vec::with_capacity(bytes.len() / 2 + 64);
    loop {
        let consumed = compress.total_in() as usize;
        let status = compress
            .compress_vec(&bytes[consumed..], &mut out, FlushCompress::Finish)
            .expect("deflate of a buffer in memory");
        if status == Status::StreamEnd {
            return out;
        }
        out.reserve(out.capacity().max(64));
    }
}

/// Decodes rows back into states, reusing one decompressor.
pub struct Decoder {
    decompress: Decompress,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder {
            decompress: Decompress::new(false),
        }
    }
}

impl Decoder {
    /// The state and alert states of an instance from its frame and its chunks (level by level,
    /// `layout` chunks per level).
    pub fn instance<'a>(
        &mut self,
        frame: &[u8],
        layout: &[u32],
        mut chunks: impl Iterator<Item = &'a [u8]>,
    ) -> Result<(SloState, Alerts), String> {
        let frame: Frame = serde_json::from_slice(&self.inflate(frame)?)
            .map_err(|err| format!("frame does not decode ({err})"))?;
        let mut rings = Vec::with_capacity(layout.len());
        for &count in layout {
            let mut ring: Vec<Counts> = Vec::with_capacity(count as usize * CHUNK_SLOTS);
            for _ in 0..count {
                let bytes = chunks.next().ok_or("a chunk is missing")?;
                let undecodable = |err| format!("chunk does not decode ({err})");
                let chunk = match postcard::from_bytes(bytes).map_err(undecodable)? {
                    Packed::Plain(chunk) => chunk,
                    Packed::Deflated(bytes) => {
                        postcard::from_bytes(&self.inflate(&bytes)?).map_err(undecodable)?
                    }
                };
                ring.extend(chunk.buckets()?);
            }
            rings.push(ring);
        }
        if chunks.next().is_some() {
            return Err("more chunks than levels hold".into());
        }
        let state = frame.state.with_buckets(rings)?;
        Ok((state, frame.alerts))
    }

    fn inflate(&mut self, bytes: &[u8]) -> Result<Vec<u8>, String> {
        self.decompress.reset(false);
        let mut out = Vec::with_capacity(bytes.len() * 4 + 64);
        loop {
            let (read, wrote) = (self.decompress.total_in(), self.decompress.total_out());
            let status = self
                .decompress
                .decompress_vec(&bytes[read as usize..], &mut out, FlushDecompress::None)
                .map_err(|err| format!("row does not inflate ({err})"))?;
            if status == Status::StreamEnd {
                return Ok(out);
            }
            if out.len() >= MAX_DECODED_BYTES {
                return Err("row inflates too far".into());
            }
            let stuck = self.decompress.total_in() == read && self.decompress.total_out() == wrote;
            if out.len() == out.capacity() {
                out.reserve(out.capacity());
            } else if stuck {
                return Err("row is truncated".into());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burnwatch_engine::{DEFAULT_WINDOWS, Observation};
    use std::time::Duration;

    const M: Millis = 60_000;
    const T0: Millis = 19_700 * 86_400_000;

    pub(crate) fn filled(errors: f64) -> SloState {
        let mut state =
            SloState::counted(0.999, Duration::from_secs(30 * 86_400), &DEFAULT_WINDOWS);
        let mut t = T0 - 3 * 86_400_000;
        while t < T0 {
            state.observe(Observation::Events {
                start: t,
                end: t + 10 * M,
                counts: Counts {
                    errors,
                    total: 1_000.0 + (t / M % 97) as f64,
                },
            });
            t += 10 * M;
        }
        state
    }

    fn decode(handover: &Handover) -> SloState {
        let rows = &handover.instances[0];
        let mut all: Vec<Option<&[u8]>> = vec![None; rows.layout.iter().sum::<u32>() as usize];
        for (at, bytes) in &rows.chunks {
            all[*at] = Some(bytes);
        }
        let chunks = all.into_iter().map(|c| c.expect("every chunk"));
        Decoder::default()
            .instance(&rows.frame, &rows.layout, chunks)
            .unwrap()
            .0
    }

    #[test]
    fn only_changed_chunks_are_encoded_again() {
        let group: GroupKey = vec!["a".into()];
        let mut state = filled(2.0);
        let alerts = Alerts::new();
        let mut encoder = Encoder::default();
        let first = encoder.encode("f", T0, [(&group, &state, &alerts)].into_iter());
        let all = first.instances[0].layout.iter().sum::<u32>() as usize;
        assert_eq!(first.instances[0].chunks.len(), all);
        assert!(all > 20, "{all}");
        state.observe(Observation::Events {
            start: T0,
            end: T0 + M,
            counts: Counts {
                errors: 1.0,
                total: 10.0,
            },
        });
        let second = encoder.encode("f", T0 + M, [(&group, &state, &alerts)].into_iter());
        // One minute: the head chunk of each of the three levels.
        assert_eq!(
            second.instances[0].chunks.len(),
            3,
            "{:?}",
            second.instances[0].layout
        );
        let mut restored = Encoder::default();
        restored.remember([(&group, &state)].into_iter());
        let third = restored.encode("f", T0 + M, [(&group, &state, &alerts)].into_iter());
        assert!(third.instances[0].chunks.is_empty());
    }

    #[test]
    fn counts_keep_every_bit_whole_or_not() {
        let values = [
            0.0,
            -0.0,
            1.0,
            1234.0,
            0.5,
            1e-300,
            (1u64 << 53) as f64,
            ((1u64 << 53) - 1) as f64,
            1e20,
            f64::MAX,
            -3.0,
            f64::INFINITY,
            f64::NAN,
        ];
        let buckets: Vec<Counts> = values
            .iter()
            .zip(values.iter().rev())
            .map(|(&errors, &total)| Counts { errors, total })
            .collect();
        let chunk = Chunk::of(&buckets);
        assert_eq!(chunk.exact.len(), 2 * 9, "whole: 0, 1, 1234 and 2^53 - 1");
        let bytes = postcard::to_allocvec(&chunk).unwrap();
        let back = postcard::from_bytes::<Chunk>(&bytes)
            .unwrap()
            .buckets()
            .unwrap();
        let bits = |b: &[Counts]| -> Vec<(u64, u64)> {
            b.iter()
                .map(|c| (c.errors.to_bits(), c.total.to_bits()))
                .collect()
        };
        assert_eq!(bits(&back), bits(&buckets));
    }

    #[test]
    fn a_state_decodes_to_the_very_same_buckets_and_figures() {
        let group: GroupKey = vec![];
        let mut state = filled(3.0);
        let alerts = Alerts::new();
        let handover = Encoder::default().encode("f", T0, [(&group, &state, &alerts)].into_iter());
        let mut back = decode(&handover);
        assert_eq!(back.bucket_rings(), state.bucket_rings());
        assert_eq!(back.evaluate(T0 + M), state.evaluate(T0 + M));
        let frame = handover.instances[0].frame.clone();
        let mut decoder = Decoder::default();
        let truncated = decoder.instance(&frame[..frame.len() / 2], &[], std::iter::empty());
        assert!(truncated.is_err());
        assert!(
            decoder
                .instance(b"\xff\xfe", &[], std::iter::empty())
                .is_err()
        );
    }
}
