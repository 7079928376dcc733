//! The outbound HTTP client: one set-up for backends, receivers and the gate.

use std::time::Duration;

/// The user agent burnwatch sends everywhere.
pub const USER_AGENT: &str = concat!("burnwatch/", env!("CARGO_PKG_VERSION"));

/// What a client needs to know.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// Whole-request timeout; connecting gets at most 10 s of it.
    pub timeout: Duration,
    /// Headers sent with every request (mark secret values sensitive).
    pub headers: reqwest::header::HeaderMap,
    /// Follow redirects (reqwest's default policy, which drops credentials on a change of
    /// host). Receivers do not: a redirect would carry the payload, and its key, somewhere
    /// nobody configured.
    pub follow_redirects: bool,
}

/// A client with `options` and rustls (ring). The error never contains a URL.
pub fn build(options: ClientOptions) -> Result<reqwest::Client, String> {
    // reqwest is built without a default crypto provider (aws-lc is heavy to build); ring is
    // installed once per process. A second install returns Err, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .default_headers(options.headers)
        .timeout(options.timeout)
        .connect_timeout(options.timeout.min(Duration::from_secs(10)))
        .redirect(if options.follow_redirects {
            reqwest::redirect::Policy::default()
        } else {
            reqwest::redirect::Policy::none()
        })
        .user_agent(USER_AGENT)
        .build()
        .map_err(|err| describe(err.without_url()))
}

/// `err` and every cause behind it, joined by `: `, without the URL.
pub fn describe(err: reqwest::Error) -> String {
    let err = err.without_url();
    let mut message = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn errors_name_the_cause_but_never_the_url() {
        let client = build(ClientOptions {
            timeout: Duration::from_secs(5),
            ..ClientOptions::default()
        })
        .unwrap();
        // A refused connection, with a password and a secret path in the URL.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let err = client
            .get(format!(
                "http://user:hunter2@127.0.0.1:{port}/T000/secret-token"
            ))
            .send()
            .await
            .unwrap_err();
        let text = describe(err);
        assert!(
            !text.contains("hunter2") && !text.contains("secret-token"),
            "{text}"
        );
        assert!(text.contains(": "), "the cause is named: {text}");
    }
}
