//! A `/metrics` endpoint with one request counter per route: `ROUTES` ordinary routes and one
//! whose name is hostile markup, so that one SLO grouped by `route` has `ROUTES + 1` instances.

use burnwatch_tests::Exporter;

/// Ordinary routes, `r0000` to `r1999`.
pub const ROUTES: usize = 2_000;

/// A route name that is markup, quotes, an ampersand and a newline: it must come out escaped on
/// every page and unchanged in the JSON.
pub const HOSTILE: &str = "<script>alert(\"x\")</script> & 'q'\nline two";

/// Serves on a loopback port until dropped.
pub fn start() -> Exporter {
    let started = std::time::Instant::now();
    Exporter::serve(move |_| render(started.elapsed().as_secs_f64()))
}

/// Counters at `t` seconds: 10 requests a second per route, 1% of them 500s.
fn render(t: f64) -> String {
    let mut out = String::with_capacity(ROUTES * 120);
    out.push_str("# TYPE http_requests_total counter\n");
    let names = (0..ROUTES)
        .map(|i| format!("r{i:04}"))
        .chain([exposition_escape(HOSTILE)]);
    for route in names {
        let total = (t * 10.0).floor();
        let errors = (t * 0.1).floor();
        out.push_str(&format!(
            "http_requests_total{{route=\"{route}\",code=\"200\"}} {}\n",
            total - errors
        ));
        out.push_str(&format!(
            "http_requests_total{{route=\"{route}\",code=\"500\"}} {errors}\n"
        ));
    }
    out
}

/// A label value as the Prometheus text format writes it.
fn exposition_escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
