//! Why a command failed, and the exit code each failure becomes: the one place the binary's exit
//! codes are decided (documented in docs/architecture.md, docs/replay.md and, for `gate` and
//! `correction`, docs/api.md).
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success (`gate`: approve) |
//! | 1 | invalid configuration, or a run-time failure |
//! | 2 | a usage error (as clap's own) |
//! | 3, 4, 5 | `gate`: review, defer, block |

use std::process::ExitCode;

/// `gate`: review before shipping.
pub const REVIEW: u8 = 3;
/// `gate`: defer, wait until the SLO recovers.
pub const DEFER: u8 = 4;
/// `gate`: block, do not ship.
pub const BLOCK: u8 = 5;
/// A command line that asks for something impossible.
const USAGE: u8 = 2;

/// Why the process failed; each maps to an exit code.
#[derive(Debug)]
pub enum Failure {
    /// The configuration is invalid (exit 1); the message lists every problem.
    Config(String),
    /// Something failed at run time (exit 1).
    Runtime(String),
    /// The command line asks for something impossible (exit 2, as clap's own usage errors).
    Usage(String),
    /// `gate` decided against approving ([`REVIEW`], [`DEFER`] or [`BLOCK`]); already printed.
    Gate(u8),
}

impl Failure {
    /// Prints the failure's message (if it has one) to stderr and returns its exit code.
    pub fn exit(self) -> ExitCode {
        match self {
            Failure::Config(message) | Failure::Runtime(message) => {
                eprintln!("burnwatch: {message}");
                ExitCode::FAILURE
            }
            Failure::Usage(message) => {
                eprintln!("burnwatch: {message}");
                ExitCode::from(USAGE)
            }
            Failure::Gate(code) => ExitCode::from(code),
        }
    }
}
