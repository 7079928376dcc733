//! What selects SLOs in a section that applies to some of them (`[[maintenance]]`,
//! `[[digest]]`): their labels.

use std::collections::BTreeMap;

use crate::context::Ctx;
use crate::error::ErrorKind;
use crate::names::is_label_name;
use crate::raw::StrMap;

/// `labels = { team = "payments" }` of `section`: label names checked, values expanded.
pub(crate) fn labels(
    ctx: &mut Ctx<'_>,
    labels: &StrMap,
    section: &str,
) -> Option<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (name, value) in labels.get_ref() {
        if !is_label_name(name.get_ref()) {
            ok = false;
            ctx.error(
                ErrorKind::InvalidValue,
                &name.span(),
                format!(
                    "`{}` in `labels` of {section} is not a label name: use \
                     [a-zA-Z_][a-zA-Z0-9_]*, e.g. labels = {{ team = \"payments\" }}",
                    name.get_ref()
                ),
            );
        }
        match ctx.expand(value) {
            Some(v) => {
                out.insert(name.get_ref().clone(), v);
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}
