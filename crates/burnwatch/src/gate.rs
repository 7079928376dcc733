//! `burnwatch gate`: the release gate from the command line. Asks a running daemon's
//! `/api/v1/slos/{id}/decision` and turns the decision into an exit code a CI job can act on.

use std::time::Duration;

use serde_json::Value;

use crate::cli::GateRisk;
use crate::failure::{BLOCK, DEFER, Failure, REVIEW};

/// Asks `url` for the decision on `slo` at `risk`, prints it with its rationale, and returns
/// Ok for approve, [`Failure::Gate`] with the decision's exit code otherwise.
pub fn run(url: &str, slo: &str, risk: GateRisk, timeout: Duration) -> Result<(), Failure> {
    let risk = match risk {
        GateRisk::Low => "low",
        GateRisk::Medium => "medium",
        GateRisk::High => "high",
    };
    let base = url.trim_end_matches('/');
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(Failure::Usage(format!(
            "--url {url:?} must start with http:// or https://, e.g. http://burnwatch:9464"
        )));
    }
    let endpoint = format!("{base}/api/v1/slos/{}/decision?risk={risk}", encode(slo));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| Failure::Runtime(format!("cannot start the async runtime: {err}")))?;
    let (status, body) = runtime.block_on(fetch(&endpoint, timeout))?;
    let answer: Value = serde_json::from_str(&body).map_err(|_| {
        Failure::Runtime(format!(
            "{endpoint} answered {status} with something other than JSON: {}",
            body.chars().take(200).collect::<String>()
        ))
    })?;
    if status != 200 {
        let why = answer["error"].as_str().unwrap_or(body.as_str());
        return Err(Failure::Runtime(format!(
            "no decision for {slo:?} ({status}): {why}"
        )));
    }
    let decision = answer["decision"].as_str().unwrap_or_default();
    let rationale = answer["rationale"].as_str().unwrap_or_default();
    let code = match decision {
        "approve" => 0,
        "review" => REVIEW,
        "defer" => DEFER,
        "block" => BLOCK,
        other => {
            return Err(Failure::Runtime(format!(
                "{endpoint} answered an unknown decision {other:?}"
            )));
        }
    };
    println!("{decision}: {rationale}");
    if code == 0 {
        Ok(())
    } else {
        Err(Failure::Gate(code))
    }
}

async fn fetch(endpoint: &str, timeout: Duration) -> Result<(u16, String), Failure> {
    let client = burnwatch_store::client::build(burnwatch_store::client::ClientOptions {
        timeout,
        follow_redirects: true,
        ..Default::default()
    })
    .map_err(|err| Failure::Runtime(format!("cannot build an HTTP client: {err}")))?;
    let response = client.get(endpoint).send().await.map_err(|err| {
        Failure::Runtime(format!(
            "cannot reach {endpoint}: {}",
            burnwatch_store::client::describe(err)
        ))
    })?;
    let status = response.status().as_u16();
    let body = response
        .text()
        .await
        .map_err(|err| Failure::Runtime(format!("cannot read the answer of {endpoint}: {err}")))?;
    Ok((status, body))
}

/// Percent-encodes an id for one path segment (`{`, `"`, `/` and the like).
pub(crate) fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_encoded_as_one_segment() {
        assert_eq!(
            encode(r#"checkout-latency{route="/pay"}"#),
            "checkout-latency%7Broute%3D%22%2Fpay%22%7D"
        );
    }

    #[test]
    fn a_url_without_scheme_is_a_usage_error() {
        let Err(Failure::Usage(message)) =
            run("burnwatch:9464", "x", GateRisk::Low, Duration::from_secs(1))
        else {
            panic!("accepted a URL without scheme");
        };
        assert!(message.contains("http://"), "{message}");
    }
}
