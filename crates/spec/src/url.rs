//! URL checks shared by backends and receivers. Only the shape is checked: host names are not
//! resolved and nothing is contacted.

use crate::context::Ctx;
use crate::error::ErrorKind;
use crate::raw::Str;

/// `value` (expanded from `text`) shaped by `check` (`base_url` or `endpoint`); `None` after
/// reporting why it is not a URL of that shape. The message quotes the URL: not for secret ones.
pub(crate) fn shaped(
    ctx: &mut Ctx<'_>,
    text: &Str,
    value: &str,
    example: &str,
    check: fn(&str, &str) -> Result<String, String>,
) -> Option<String> {
    match check(value, example) {
        Ok(url) => Some(url),
        Err(why) => {
            ctx.error(
                ErrorKind::InvalidValue,
                &text.span(),
                format!("url {value:?} {why}"),
            );
            None
        }
    }
}

/// A base URL to which API paths are appended (`/api/v1/...`, `/api/v2/alerts`), without
/// trailing slashes, or why it is not one. `example` is a valid URL to show in the reason.
pub(crate) fn base_url(url: &str, example: &str) -> Result<String, String> {
    let url = endpoint(url, example)?;
    if url.contains(['?', '#']) {
        return Err(
            "must not have a query or fragment: give the base URL that API paths are appended to"
                .to_string(),
        );
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// A complete endpoint URL, used as written (a query is allowed), or why it is not one. The
/// reasons never quote the URL, so they can be used for secret URLs.
pub(crate) fn endpoint(url: &str, example: &str) -> Result<String, String> {
    let lower = url.to_ascii_lowercase();
    let rest = ["http://", "https://"]
        .iter()
        .find_map(|scheme| lower.starts_with(scheme).then(|| &url[scheme.len()..]))
        .ok_or_else(|| format!("must start with http:// or https://, e.g. \"{example}\""))?;
    if url.chars().any(char::is_whitespace) {
        return Err("must not contain spaces".to_string());
    }
    if rest.split(['/', '?', '#']).next().unwrap_or("").is_empty() {
        return Err(format!("has no host, e.g. \"{example}\""));
    }
    Ok(url.to_string())
}

/// Whether the URL's authority holds credentials (`user:password@host`). Such a URL would
/// carry a password into every place the URL is shown.
pub(crate) fn has_userinfo(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', '?', '#'])
        .next()
        .is_some_and(|authority| authority.contains('@'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "http://prometheus:9090";

    #[test]
    fn base_urls() {
        assert_eq!(
            base_url("http://127.0.0.1:9090/", EXAMPLE),
            Ok("http://127.0.0.1:9090".into())
        );
        assert_eq!(
            base_url("HTTPS://mimir/prometheus//", EXAMPLE),
            Ok("HTTPS://mimir/prometheus".into())
        );
        let no_scheme = base_url("127.0.0.1:9090", EXAMPLE).unwrap_err();
        assert!(no_scheme.contains("http://") && no_scheme.contains(EXAMPLE));
        assert!(
            base_url("http:///x", EXAMPLE)
                .unwrap_err()
                .contains("no host")
        );
        assert!(
            base_url("http://a/?x=1", EXAMPLE)
                .unwrap_err()
                .contains("query")
        );
        assert!(
            base_url("http://a b", EXAMPLE)
                .unwrap_err()
                .contains("spaces")
        );
    }

    #[test]
    fn credentials_are_found_in_the_authority_only() {
        assert!(has_userinfo("http://user:pass@prometheus:9090"));
        assert!(has_userinfo("https://token@mimir/prometheus"));
        assert!(!has_userinfo("http://prometheus:9090/api?who=a@b"));
        assert!(!has_userinfo("http://prometheus:9090/x@y"));
        assert!(!has_userinfo("http://prometheus:9090#a@b"));
    }

    #[test]
    fn endpoints_keep_their_path_and_query() {
        assert_eq!(
            endpoint("https://h/v2/enqueue/?x=1", EXAMPLE),
            Ok("https://h/v2/enqueue/?x=1".into())
        );
        assert!(
            endpoint("https://?x", EXAMPLE)
                .unwrap_err()
                .contains("no host")
        );
        assert!(endpoint("ftp://h", EXAMPLE).is_err());
    }
}
