//! `burnwatch correction add|list|delete`: budget corrections on a running daemon through
//! `/api/v1/corrections`, with the API token from `--token-file` or `BURNWATCH_API_TOKEN`.
//! Errors say what to do: an unreachable daemon names the URL, 401 and 403 name the setting.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::cli::{ApiArgs, CorrectionAction, CorrectionCategory, CorrectionFormat};
use crate::failure::Failure;
use crate::gate::encode;

/// The environment variable holding the token when `--token-file` is not given.
const TOKEN_ENV: &str = "BURNWATCH_API_TOKEN";

/// Runs one `correction` action and prints its outcome.
pub fn run(action: CorrectionAction) -> Result<(), Failure> {
    match action {
        CorrectionAction::Add {
            api,
            slos,
            start,
            end,
            reason,
            category,
        } => {
            let body = json!({
                "slos": slos,
                "start": start,
                "end": end,
                "reason": reason,
                "category": category_name(category),
            });
            let created = call(&api, Method::POST, "/api/v1/corrections", Some(body), 201)?;
            println!(
                "added correction {}: {} over ({}, {}], {}: {}",
                text(&created["id"]),
                list(&created["slos"]),
                text(&created["start"]),
                text(&created["end"]),
                text(&created["category"]),
                text(&created["reason"]),
            );
            Ok(())
        }
        CorrectionAction::List { api, slo, format } => {
            let path = match &slo {
                Some(id) => format!("/api/v1/corrections?slo={}", encode(id)),
                None => "/api/v1/corrections".to_string(),
            };
            let answer = call(&api, Method::GET, &path, None, 200)?;
            match format {
                CorrectionFormat::Json => println!("{answer:#}"),
                CorrectionFormat::Table => print!("{}", table(&answer)),
            }
            Ok(())
        }
        CorrectionAction::Delete { api, id } => {
            let path = format!("/api/v1/corrections/{}", encode(&id));
            call(&api, Method::DELETE, &path, None, 204)?;
            println!("deleted correction {id}");
            Ok(())
        }
    }
}

fn category_name(category: CorrectionCategory) -> &'static str {
    match category {
        CorrectionCategory::Maintenance => "maintenance",
        CorrectionCategory::Deployment => "deployment",
        CorrectionCategory::Dependency => "dependency",
        CorrectionCategory::LoadTest => "load_test",
        CorrectionCategory::Other => "other",
    }
}

/// The token from `--token-file`, else the environment.
fn token(api: &ApiArgs) -> Result<String, Failure> {
    let token = match &api.token_file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|err| {
                Failure::Runtime(format!(
                    "cannot read the token file {}: {err}",
                    path.display()
                ))
            })?
            .trim()
            .to_string(),
        None => std::env::var(TOKEN_ENV)
            .unwrap_or_default()
            .trim()
            .to_string(),
    };
    if token.is_empty() {
        return Err(Failure::Usage(format!(
            "no API token: pass --token-file with the file named by the daemon's [server] \
             api_token_file, or set {TOKEN_ENV}"
        )));
    }
    Ok(token)
}

/// One request; the answer's JSON (Null for an empty body) when the status is `expected`.
fn call(
    api: &ApiArgs,
    method: Method,
    path: &str,
    body: Option<Value>,
    expected: u16,
) -> Result<Value, Failure> {
    let base = api.url.trim_end_matches('/');
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(Failure::Usage(format!(
            "--url {:?} must start with http:// or https://, e.g. http://127.0.0.1:9464",
            api.url
        )));
    }
    let token = token(api)?;
    let endpoint = format!("{base}{path}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| Failure::Runtime(format!("cannot start the async runtime: {err}")))?;
    let (status, text) =
        runtime.block_on(send(method.clone(), &endpoint, &token, body, api.timeout))?;
    let answer: Value = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).map_err(|_| {
            Failure::Runtime(format!(
                "{method} {endpoint} answered {status} with something other than JSON: {}",
                text.chars().take(200).collect::<String>()
            ))
        })?
    };
    if status == expected {
        return Ok(answer);
    }
    let why = answer["error"]
        .as_str()
        .unwrap_or(text.as_str())
        .to_string();
    Err(Failure::Runtime(match status {
        401 => format!(
            "the daemon at {base} refused the token (401): {why}; pass --token-file with the \
             daemon's [server] api_token_file, or set {TOKEN_ENV}"
        ),
        403 => format!("the daemon at {base} refuses corrections (403): {why}"),
        _ => format!("{method} {endpoint} failed ({status}): {why}"),
    }))
}

async fn send(
    method: Method,
    endpoint: &str,
    token: &str,
    body: Option<Value>,
    timeout: Duration,
) -> Result<(u16, String), Failure> {
    let client = burnwatch_store::client::build(burnwatch_store::client::ClientOptions {
        timeout,
        follow_redirects: false,
        ..Default::default()
    })
    .map_err(|err| Failure::Runtime(format!("cannot build an HTTP client: {err}")))?;
    let mut request = client.request(method, endpoint).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.map_err(|err| {
        Failure::Runtime(format!(
            "cannot reach {endpoint}: {}; is burnwatch running there?",
            burnwatch_store::client::describe(err)
        ))
    })?;
    let status = response.status().as_u16();
    let text = response
        .text()
        .await
        .map_err(|err| Failure::Runtime(format!("cannot read the answer of {endpoint}: {err}")))?;
    Ok((status, text))
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("?")
}

fn list(value: &Value) -> String {
    value
        .as_array()
        .map(|items| items.iter().map(text).collect::<Vec<_>>().join(", "))
        .unwrap_or_default()
}

/// One line per correction under a header, columns padded to their widest cell.
fn table(answer: &Value) -> String {
    let empty = Vec::new();
    let items = answer["corrections"].as_array().unwrap_or(&empty);
    if items.is_empty() {
        return "no corrections\n".to_string();
    }
    let mut rows = vec![["ID", "START", "END", "CATEGORY", "SLOS", "REASON"].map(String::from)];
    for c in items {
        rows.push([
            text(&c["id"]).to_string(),
            text(&c["start"]).to_string(),
            text(&c["end"]).to_string(),
            text(&c["category"]).to_string(),
            list(&c["slos"]),
            text(&c["reason"]).to_string(),
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                if i == 5 {
                    cell.clone()
                } else {
                    format!("{cell:<width$}", width = widths[i])
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_pads_columns_and_keeps_the_reason_whole() {
        let answer = json!({"corrections": [
            {"id": "corr-1", "start": "2026-10-13T09:00:00.000Z", "end": "2026-10-13T09:20:00.000Z",
             "category": "dependency", "slos": ["checkout-*"], "reason": "payments-db failover"},
            {"id": "corr-22", "start": "2026-10-14T09:00:00.000Z", "end": "2026-10-14T10:00:00.000Z",
             "category": "load_test", "slos": ["a", "b"], "reason": "k6"},
        ]});
        assert_eq!(
            table(&answer),
            "ID       START                     END                       CATEGORY    SLOS        REASON\n\
             corr-1   2026-10-13T09:00:00.000Z  2026-10-13T09:20:00.000Z  dependency  checkout-*  payments-db failover\n\
             corr-22  2026-10-14T09:00:00.000Z  2026-10-14T10:00:00.000Z  load_test   a, b        k6\n"
        );
        assert_eq!(table(&json!({"corrections": []})), "no corrections\n");
    }
}
