//! Fuzzes `burnwatch_spec::parse` with arbitrary text: any file must yield a `Config` or a
//! non-empty list of errors whose locations lie inside the text, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Invalid UTF-8 is mapped rather than skipped so that no input is wasted; `load` reports
    // non-UTF-8 files before `parse` is reached.
    burnwatch_spec_fuzz::check(&String::from_utf8_lossy(data));
});
