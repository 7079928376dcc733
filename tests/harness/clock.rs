//! Milliseconds as the engine counts them, and the windows Sloth names, for tests that compute
//! expected figures at exact window boundaries.

/// A second in milliseconds.
pub const S: i64 = 1_000;
/// A minute.
pub const M: i64 = 60 * S;
/// An hour.
pub const H: i64 = 60 * M;
/// A day.
pub const D: i64 = 24 * H;

/// The default windows and a 30-day period, as Sloth labels them, shortest first.
pub const WINDOWS: [(&str, i64); 8] = [
    ("5m", 5 * M),
    ("30m", 30 * M),
    ("1h", H),
    ("2h", 2 * H),
    ("6h", 6 * H),
    ("1d", D),
    ("3d", 3 * D),
    ("30d", 30 * D),
];
