//! Fuzzes `burnwatch_spec::parse` with generated, syntactically valid configuration files, so
//! that the validation of every section, key and value is reached (see `src/lib.rs`).

#![no_main]

use burnwatch_spec_fuzz::{Generated, check};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|config: Generated| check(&config.0));
