//! `${NAME}` expansion in string values.
//!
//! Expansion runs on parsed string values, never on the raw file, so it cannot change TOML
//! syntax. `$$` is a literal `$`; a `$` followed by anything but `{` or `$` stays as it is, so
//! PromQL such as `label_replace(..., "$1", ...)` needs no escaping.

/// Why a value could not be expanded. `offset` is the byte offset of the `$` in the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EnvError {
    /// Byte offset of the offending `$` within the string value.
    pub offset: usize,
    /// What is wrong, without the value of any variable.
    pub message: String,
    /// The variable's name when the problem is that it is not set (a secret's reference says
    /// so differently: writing it literally is no way out there).
    pub unset: Option<String>,
}

/// Expands every `${NAME}` in `text` with `lookup`. Reports every problem in the value.
pub(crate) fn expand(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, Vec<EnvError>> {
    let mut out = String::with_capacity(text.len());
    let mut errors = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        let consumed = if after.starts_with('$') {
            out.push('$');
            2
        } else if let Some(body) = after.strip_prefix('{') {
            match body.find('}') {
                None => {
                    errors.push(EnvError {
                        offset: offset + dollar,
                        message: "`${` without a closing `}`; write `$${` for a literal `${`"
                            .to_string(),
                        unset: None,
                    });
                    rest.len() - dollar
                }
                Some(end) => {
                    let name = &body[..end];
                    if !is_env_name(name) {
                        errors.push(EnvError {
                            offset: offset + dollar,
                            message: format!(
                                "`${{{name}}}` is not a valid environment variable reference; \
                                 names are letters, digits and `_`, not starting with a digit \
                                 (write `$$` for a literal `$`)"
                            ),
                            unset: None,
                        });
                    } else if let Some(value) = lookup(name) {
                        out.push_str(&value);
                    } else {
                        errors.push(EnvError {
                            offset: offset + dollar,
                            message: format!(
                                "environment variable `{name}` is not set (referenced as `${{{name}}}`); \
                                 set it, or write `$${{{name}}}` for the literal text"
                            ),
                            unset: Some(name.to_string()),
                        });
                    }
                    2 + end + 1
                }
            }
        } else {
            out.push('$');
            1
        };
        rest = &rest[dollar + consumed..];
        offset += dollar + consumed;
    }
    out.push_str(rest);
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "TEAM" => Some("payments".to_string()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expands_references() {
        assert_eq!(expand("team-${TEAM}", &env).unwrap(), "team-payments");
        assert_eq!(expand("${TEAM}${TEAM}", &env).unwrap(), "paymentspayments");
        assert_eq!(expand("a${EMPTY}b", &env).unwrap(), "ab");
        assert_eq!(expand("no refs", &env).unwrap(), "no refs");
    }

    #[test]
    fn dollar_dollar_is_a_literal_dollar() {
        assert_eq!(expand("$${TEAM}", &env).unwrap(), "${TEAM}");
        assert_eq!(expand("a$$b", &env).unwrap(), "a$b");
        assert_eq!(expand("$$$${TEAM}", &env).unwrap(), "$${TEAM}");
    }

    #[test]
    fn a_lone_dollar_is_kept_for_promql() {
        assert_eq!(
            expand(r#"label_replace(x, "a", "$1", "b", "(.*)")"#, &env).unwrap(),
            r#"label_replace(x, "a", "$1", "b", "(.*)")"#
        );
        assert_eq!(expand("5..$", &env).unwrap(), "5..$");
    }

    #[test]
    fn reports_every_unset_variable_with_its_offset() {
        let errors = expand("${A}-${TEAM}-${B}", &env).unwrap_err();
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].offset, 0);
        assert!(
            errors[0].message.contains("`A` is not set"),
            "{}",
            errors[0].message
        );
        assert_eq!(errors[1].offset, 13);
        assert!(errors[1].message.contains("`B`"));
    }

    #[test]
    fn rejects_malformed_references() {
        assert!(
            expand("${unterminated", &env).unwrap_err()[0]
                .message
                .contains("closing")
        );
        assert!(
            expand("${1X}", &env).unwrap_err()[0]
                .message
                .contains("not a valid")
        );
        assert!(expand("${}", &env).is_err());
    }
}
