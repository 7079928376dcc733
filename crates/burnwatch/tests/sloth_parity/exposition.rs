//! Reading burnwatch's `/metrics` (OpenMetrics text) into samples with their label sets.

use std::collections::BTreeMap;

/// One sample: metric name, labels, value.
#[derive(Debug, Clone)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Every sample of `body`; comments and blank lines skipped.
pub fn parse(body: &str) -> Vec<Sample> {
    body.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| parse_line(line).unwrap_or_else(|| panic!("unreadable sample line: {line}")))
        .collect()
}

fn parse_line(line: &str) -> Option<Sample> {
    let name_end = line.find(['{', ' '])?;
    let name = line[..name_end].to_string();
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(inner) = rest.strip_prefix('{') {
        let mut chars = inner.char_indices();
        loop {
            let (i, c) = chars.next()?;
            match c {
                '}' => {
                    rest = &inner[i + 1..];
                    break;
                }
                ',' | ' ' => continue,
                _ => {}
            }
            let eq = i + inner[i..].find('=')?;
            let key = inner[i..eq].to_string();
            // Skip to the opening quote, then read the escaped value.
            while chars.next()?.1 != '"' {}
            let mut value = String::new();
            loop {
                match chars.next()?.1 {
                    '"' => break,
                    '\\' => match chars.next()?.1 {
                        'n' => value.push('\n'),
                        other => value.push(other),
                    },
                    other => value.push(other),
                }
            }
            labels.insert(key, value);
        }
    }
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "NaN" => f64::NAN,
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        number => number.parse().ok()?,
    };
    Some(Sample {
        name,
        labels,
        value,
    })
}

#[test]
fn labels_with_escapes_and_bare_names_are_read() {
    let samples =
        parse("# HELP x y\nx_total 3\nslo:a{sloth_id=\"a-b\",channel=\"#q \\\"x\\\", y\"} 0.5\n");
    assert_eq!(samples.len(), 2);
    assert_eq!(samples[0].name, "x_total");
    assert_eq!(samples[0].value, 3.0);
    assert_eq!(samples[1].labels["channel"], "#q \"x\", y");
    assert_eq!(samples[1].labels["sloth_id"], "a-b");
    assert_eq!(samples[1].value, 0.5);
}
