//! Receiver types as plug-ins: what `[receivers.<name>]` may say for each `type`.
//!
//! A type is one file here holding its keys, their checks and its defaults (a [`Kind`]),
//! registered by one line in the list below. The rest of this module is shared by every type:
//! `raw` (the table as written: the common keys and every type's string keys), `validate` (the
//! common keys, keys of another type, then the type's own check), `kind` (what a type file
//! provides and the helpers it uses: secrets, URLs). A type other than the first four keeps
//! its validated settings in its file and hands them over as a [`crate::Plugin`].
//!
//! Imports point one way: `validate` and `raw` read the list; the type files import `kind`
//! only, never this list or each other.

mod kind;
pub(crate) mod raw;
pub(crate) mod validate;

use kind::Kind;

/// Declares the type modules and lists them in [`KINDS`], in documentation order.
macro_rules! registry {
    ($($kind:ident),* $(,)?) => {
        $(pub mod $kind;)*
        /// Every receiver type, in documentation order (messages list them in this order).
        pub(crate) const KINDS: &[&Kind] = &[$(&$kind::KIND),*];
    };
}

registry! {
    pagerduty,
    slack,
    webhook,
    alertmanager,
    opsgenie,
    teams,
}
