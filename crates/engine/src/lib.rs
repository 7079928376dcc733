//! The SLO math of burnwatch: rolling event counts, windows, error ratios, burn rates, error
//! budget and data states, for one SLO instance at a time.
//!
//! # What it owns
//! - [`SloState`]: the rolling state of one SLO instance. A counting state keeps event counts in
//!   three levels of time-aligned buckets (1 minute over 6 hours, 10 minutes over 3 days, hours
//!   over the period) and a running sum per window, so a tick costs the same for a 5-minute and a
//!   30-day window. Its [`Period`] is rolling or a calendar week, month or quarter in an IANA
//!   zone; a calendar period's events are a running sum too, recounted from the buckets once
//!   when a new period begins. A direct state keeps the latest per-window ratios a backend computed itself.
//! - [`Evaluation`] with [`WindowFigures`] and [`PeriodFigures`]: what an instance looks like at
//!   one moment, including the [`DataState`] that keeps "no series", "no traffic" and "ok" apart.
//! - [`Alerts`]: the alert state machine of an instance (page, ticket, no_data,
//!   budget_exhausted) under an [`AlertPolicy`]; [`Alerts::eval`] returns the [`Transition`]s
//!   receivers must hear about.
//! - [`CounterTracker`]: turns raw cumulative counter samples into reset-aware increases.
//! - The board ([`Board`]): the latest evaluation of every instance, shared between writers and
//!   readers, with a [`Trail`] per instance: its past read from its buckets when asked (through
//!   a [`StateView`] of the runner's [`SharedState`]), its newest evaluations and alert episodes.
//! - The error budget policy: [`Status`] of an instance and the release [`Decision`] for a
//!   [`Risk`].
//! - Time slices ([`Slicing`]): how a slice of time becomes one event (OpenSLO's
//!   `Timeslices` and `RatioTimeslices`), so every window works on slices unchanged.
//! - Composite SLOs: [`compose`] turns the components' evaluations into the composite's error
//!   ratio per window (the weighted mean of their normalised burn) and a [`ComponentStatus`]
//!   each, saying where one had no data.
//!
//! # Neighbours
//! `burnwatch-spec` validates the SLO definitions this crate is built from (objective, period,
//! windows). `burnwatch-scheduler` queries the backend, feeds [`Observation`]s (live ticks and
//! backfill alike) and publishes evaluations to the board. `burnwatch-http` reads the board and
//! formats it. Replay and tests drive the same [`SloState`]: there is no second copy of the math.
//!
//! # What it must not do
//! No tokio, no I/O, no clock: every call that depends on time is given `now` as [`Millis`].
//! That keeps the engine deterministic, so live, replay and tests agree to the bit. Nothing the
//! data brings (NaN, negative counts, reversed spans, timestamps far away) may panic; only
//! constructors panic, on arguments the spec has already validated.//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use burnwatch_engine::{Counts, Observation, SloState};
//!
//! const MINUTE: i64 = 60_000; // the engine's clock is milliseconds, given by the caller
//! let (five_minutes, hour) = (Duration::from_secs(300), Duration::from_secs(3600));
//! let mut state = SloState::counted(0.999, Duration::from_secs(30 * 86_400), &[five_minutes, hour]);
//! // An hour of 1000 requests a minute: 55 clean minutes, then 5 minutes with 2% errors.
//! for minute in 0..60 {
//!     let errors = if minute < 55 { 0.0 } else { 20.0 };
//!     state.observe(Observation::Events {
//!         start: minute * MINUTE,
//!         end: (minute + 1) * MINUTE,
//!         counts: Counts { errors, total: 1000.0 },
//!     });
//! }
//! let evaluation = state.evaluate(60 * MINUTE);
//! let burn = |w| evaluation.window(w).unwrap().burn_rate.unwrap();
//! // 100 errors in the last 5000 requests: 2%, twenty times the 0.1% budget; over the hour,
//! // 100 in 60000 is 1/600, 1.67 times it.
//! assert!((burn(five_minutes) - 20.0).abs() < 1e-9);
//! assert!((burn(hour) - 1000.0 / 600.0).abs() < 1e-9);
//! ```
#![deny(missing_docs)]

mod alert;
mod board;
mod budget;
mod composite;
mod condition;
mod counter;
mod counts;
mod data_state;
mod evaluation;
mod exclusion;
mod figures;
mod fnv;
mod history;
mod layout;
mod level;
mod millis;
mod notification;
mod objective;
mod observation;
mod period;
mod policy;
mod ratios;
mod rolling;
mod running_sum;
mod shared;
mod slice;
mod span_sources;
mod state;
mod status;
mod trail;
mod window;

pub use alert::{Alert, AlertKind, AlertState, AlertStatus, Alerts, Outcome, Transition};
pub use board::{
    AlertExtras, Board, Entry, InstanceInfo, SloInfo, SloStatus, Waiting, instance_key,
};
pub use budget::PeriodFigures;
pub use chrono::Weekday;
pub use chrono_tz::Tz;
pub use composite::{ComponentInput, ComponentStatus, Part, compose, composite_ratio};
pub use counter::CounterTracker;
pub use counts::Counts;
pub use data_state::DataState;
pub use evaluation::Evaluation;
pub use exclusion::{Excluded, ExclusionSpan, Origin, excluded_of};
pub use figures::WindowFigures;
pub use fnv::{Fnv1a, fnv1a, label_set_hash};
pub use millis::Millis;
pub use notification::{Notification, alert_key, alertname};
pub use objective::Objective;
pub use observation::Observation;
pub use period::{Calendar, CalendarUnit, Period};
pub use policy::{AlertPolicy, BurnPair, Severity};
pub use shared::{SharedState, StateView};
pub use slice::{Comparison, SliceRule, Slicing};
pub use span_sources::{Exclusions, FixedSpans, SpanSource};
pub use state::SloState;
pub use status::{ATTENTION_WINDOW, Decision, Risk, Status};
pub use trail::{Episode, MAX_EPISODES, RECENT_POINTS, RING_POINTS, Trail, TrailPoint};
pub use window::DEFAULT_WINDOWS;
