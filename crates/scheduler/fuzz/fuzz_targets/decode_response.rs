//! Fuzzes `burnwatch_scheduler::decode` with Prometheus HTTP API bodies: any bytes must decode
//! or be a `BackendError`, never a panic, and decoded timestamps stay in the documented range.

#![no_main]

use burnwatch_scheduler::decode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    match decode(body) {
        Ok(result) => {
            for series in &result.series {
                for &(ms, _) in &series.samples {
                    // `to_millis` rejects anything beyond ±2^53 ms.
                    assert!(ms.unsigned_abs() < 9_000_000_000_000_000, "timestamp {ms}");
                }
            }
        }
        // Every error must be printable: it ends up in the log and in `/api`.
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
