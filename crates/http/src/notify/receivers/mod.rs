//! The receiver kinds, one file each, and the registry that builds a configured receiver.
//! Every kind imports the shared types from `super::receiver` (never this registry or another
//! kind); adding a kind is its file and one line below.

use burnwatch_spec::Receiver as Configured;

use super::receiver::{Kind, Receiver};

/// Declares the kind modules and lists them in [`KINDS`].
macro_rules! registry {
    ($($kind:ident),* $(,)?) => {
        $(mod $kind;)*
        /// Every receiver kind.
        const KINDS: &[&Kind] = &[$(&$kind::KIND),*];
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

/// The receiver for `configured`; an error (naming the receiver) for a type no kind here
/// sends, never a silent stand-in.
pub(crate) fn build(configured: &Configured) -> Result<Box<dyn Receiver>, String> {
    let type_name = configured.kind.type_name();
    let kind = KINDS.iter().find(|k| k.name == type_name).ok_or_else(|| {
        format!(
            "receiver `{}`: type \"{type_name}\" has no sender in this build",
            configured.name
        )
    })?;
    (kind.build)(configured)
}
