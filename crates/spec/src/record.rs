//! `[record]`: the six-month record, one row per SLO instance per UTC day in `record.db` in the
//! data directory (see the `burnwatch-record` crate).

use std::time::Duration;

use toml::Spanned;

use crate::context::Ctx;
use crate::error::ErrorKind;
use crate::raw::{RawRecord, default_record_retention};

const DAY: Duration = Duration::from_secs(86_400);

/// `[record]`, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// Whether the daemon keeps the record (default true).
    pub enabled: bool,
    /// Whole UTC days kept, and how far back the first start backfills (default 400).
    pub retention_days: u32,
}

impl Default for Record {
    fn default() -> Self {
        Record {
            enabled: true,
            retention_days: (default_record_retention().as_secs() / DAY.as_secs()) as u32,
        }
    }
}

/// Validates `[record]`; `None` after reporting its problems.
pub(crate) fn record(ctx: &mut Ctx<'_>, raw: Option<&Spanned<RawRecord>>) -> Option<Record> {
    let Some(raw) = raw.map(|r| r.get_ref()) else {
        return Some(Record::default());
    };
    let enabled = raw.enabled.as_ref().is_none_or(|b| *b.get_ref());
    let retention_days = match &raw.retention {
        None => Record::default().retention_days,
        Some(text) => {
            let retention = ctx.duration(text, "retention")?;
            let days = retention.as_secs() / DAY.as_secs();
            if retention.as_nanos() % DAY.as_nanos() != 0 || !(1..=36_500).contains(&days) {
                ctx.error(
                    ErrorKind::InvalidValue,
                    &text.span(),
                    format!(
                        "retention {:?} must be a whole number of days from 1d to 36500d, \
                         e.g. \"400d\"",
                        text.get_ref()
                    ),
                );
                return None;
            }
            days as u32
        }
    };
    Some(Record {
        enabled,
        retention_days,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::Record;

    fn parse(record: &str) -> Result<crate::Config, crate::Errors> {
        crate::parse(
            &format!("[record]\n{record}\n"),
            Path::new("burnwatch.toml"),
            &|_| None,
        )
    }

    #[test]
    fn retention_is_whole_days_and_defaults_to_400() {
        assert_eq!(parse("").unwrap().record, Record::default());
        assert_eq!(Record::default().retention_days, 400);
        let config = parse("retention = \"210d\"\nenabled = false").unwrap();
        assert_eq!(
            config.record,
            Record {
                enabled: false,
                retention_days: 210
            }
        );
        assert_eq!(
            parse("retention = \"1y\"").unwrap().record.retention_days,
            365
        );
        for bad in ["\"36h\"", "\"0d\"", "\"soon\""] {
            let errors = parse(&format!("retention = {bad}"))
                .unwrap_err()
                .to_string();
            assert!(errors.contains("burnwatch.toml:2:13"), "{bad}: {errors}");
        }
        let errors = parse("keep = \"1d\"").unwrap_err().to_string();
        assert!(errors.contains("keep"), "{errors}");
    }
}
