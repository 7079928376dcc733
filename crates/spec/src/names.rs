//! Rules for names: SLO services and names, label names, HTTP header names.

pub(crate) use crate::selector::is_label_name;

/// Label names burnwatch sets itself on exported series; users may not set or group by them.
pub(crate) const RESERVED_PREFIXES: [&str; 2] = ["__", "sloth_"];

/// Services, SLO names and backend names: letters, digits, `_`, `.`, `-`, starting and ending
/// with a letter or digit (Sloth's rule; ids appear in URLs and label values).
pub(crate) fn is_slo_name(name: &str) -> bool {
    let ok_edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    ok_edge(name.chars().next())
        && ok_edge(name.chars().last())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// What an `is_slo_name` failure should say.
pub(crate) const SLO_NAME_RULE: &str =
    "letters, digits, `_`, `.` and `-`, starting and ending with a letter or digit";

/// Checks the `<name>` of a `[backends.<name>]` or `[receivers.<name>]` table (`what` is
/// `backend` or `receiver`), reporting a bad one at the name; true when it is valid.
pub(crate) fn check_table_name(
    ctx: &mut crate::context::Ctx<'_>,
    name: &toml::Spanned<String>,
    what: &str,
) -> bool {
    let ok = is_slo_name(name.get_ref());
    if !ok {
        ctx.error(
            crate::error::ErrorKind::InvalidValue,
            &name.span(),
            format!(
                "{what} name `{}` is not valid: use {SLO_NAME_RULE}",
                name.get_ref()
            ),
        );
    }
    ok
}

/// The reserved prefix `name` starts with, if any.
pub(crate) fn reserved_prefix(name: &str) -> Option<&'static str> {
    RESERVED_PREFIXES.into_iter().find(|p| name.starts_with(p))
}

/// An HTTP header name (RFC 9110 token).
pub(crate) fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

/// Characters an HTTP header value may carry: visible ASCII, space and tab.
pub(crate) fn is_header_value(value: &str) -> bool {
    value.chars().all(|c| c == '\t' || (' '..='~').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slo_names() {
        for ok in ["checkout", "availability-events", "a", "v1.2_x", "9"] {
            assert!(is_slo_name(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a b", "ä", "a/b"] {
            assert!(!is_slo_name(bad), "{bad}");
        }
    }

    #[test]
    fn reserved_label_names() {
        assert_eq!(reserved_prefix("sloth_id"), Some("sloth_"));
        assert_eq!(reserved_prefix("__name__"), Some("__"));
        assert_eq!(reserved_prefix("team"), None);
    }

    #[test]
    fn header_names_and_values() {
        assert!(is_header_name("X-Scope-OrgID"));
        assert!(!is_header_name("X Scope"));
        assert!(!is_header_name(""));
        assert!(is_header_value("Bearer abc\tdef"));
        assert!(!is_header_value("a\nb"));
        assert!(!is_header_value("é"));
    }
}
