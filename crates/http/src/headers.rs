//! Security headers on every answer. The pages are server-rendered HTML with one inline
//! stylesheet, inline `style` attributes and inline SVG, and no script, image, font or frame:
//! the policy allows exactly that, so markup that slipped through escaping could not run.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// What the pages need and nothing more: inline styles only.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const HEADERS: [(HeaderName, &str); 4] = [
    (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    // JSON and metrics are never sniffed into HTML.
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    // For browsers older than frame-ancestors.
    (header::X_FRAME_OPTIONS, "DENY"),
    // Instance ids in URLs carry label values: they stay here.
    (header::REFERRER_POLICY, "no-referrer"),
];

/// Adds the security headers to every response.
pub(crate) async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in HEADERS {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}
