//! Reading pages as a browser would, written independently of the daemon's own escaping, so a
//! test can tell a value shown escaped from one shown raw.

/// `text` with the character references a page may use decoded (named ones for `& < > "` and
/// numeric ones), so a value shown escaped compares equal to the original.
pub fn decode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';').filter(|end| *end <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A path segment with every byte but unreserved ones percent-encoded (RFC 3986).
pub fn encode_segment(text: &str) -> String {
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
#[test]
fn decoding_reverses_what_a_page_may_write() {
    assert_eq!(
        decode("&lt;b&gt; &amp;amp; &quot;&#39;&#x27;&#10; &unknown; & x"),
        "<b> &amp; \"''\n &unknown; & x"
    );
    assert_eq!(encode_segment("a b/{c=\"d\"}"), "a%20b%2F%7Bc%3D%22d%22%7D");
}
