//! `"page"` and `"ticket"` as written in the file: alert windows and routes name a severity.

use crate::context::Ctx;
use crate::model::Severity;
use crate::raw::Str;

/// Severities as written in the file.
pub(crate) const SEVERITIES: [(&str, Severity); 2] =
    [("page", Severity::Page), ("ticket", Severity::Ticket)];

/// A severity name; `None` after reporting what is valid. `what` says where it is written.
pub(crate) fn severity(ctx: &mut Ctx<'_>, text: &Str, what: &str) -> Option<Severity> {
    ctx.choice(text, &SEVERITIES, |value, hint| {
        format!("{what} {value:?} is not a severity{hint}; valid: \"page\", \"ticket\"")
    })
}
