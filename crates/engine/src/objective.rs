//! The objective as the exact decimal the user wrote: its ratio and error budget without float
//! noise.
//!
//! `1.0 - 0.999` is `0.0010000000000000009` in binary floating point; an error budget exported
//! that way reads as a mistake. The objective keeps the decimal digits it was written with and
//! derives the ratio and the budget from them in integer arithmetic, each then the double
//! nearest the exact decimal: 99.9% gives 0.999 and 0.001.

use std::fmt;

/// An objective, e.g. 99.9%.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Objective {
    percent: f64,
    ratio: f64,
    budget: f64,
}

impl Objective {
    /// From a percentage strictly between 0 and 100, as configured (99.9). Its decimal digits
    /// are those of the shortest text that reads back as the same double: what was written.
    pub fn from_percent(percent: f64) -> Objective {
        let (digits, scale) = decimal(percent);
        // ratio = digits / 10^(scale + 2); budget = (10^(scale + 2) - digits) / 10^(scale + 2).
        let scale = scale + 2;
        Objective {
            percent,
            ratio: exact(digits, scale).unwrap_or(percent / 100.0),
            budget: 10u128
                .checked_pow(scale)
                .and_then(|one| one.checked_sub(digits))
                .and_then(|rest| exact(rest, scale))
                .unwrap_or(1.0 - percent / 100.0),
        }
    }

    /// From a ratio strictly between 0 and 1 (0.999).
    pub fn from_ratio(ratio: f64) -> Objective {
        let (digits, scale) = decimal(ratio);
        Objective {
            percent: exact(digits, scale.saturating_sub(2))
                .filter(|_| scale >= 2)
                .unwrap_or(ratio * 100.0),
            ratio,
            budget: 10u128
                .checked_pow(scale)
                .and_then(|one| one.checked_sub(digits))
                .and_then(|rest| exact(rest, scale))
                .unwrap_or(1.0 - ratio),
        }
    }

    /// The percentage as written, e.g. 99.9 (Sloth's `sloth_objective` label).
    pub fn percent(&self) -> f64 {
        self.percent
    }

    /// The ratio, e.g. 0.999.
    pub fn ratio(&self) -> f64 {
        self.ratio
    }

    /// The error budget as a ratio, `1 - ratio` in decimal, e.g. 0.001.
    pub fn budget(&self) -> f64 {
        self.budget
    }
}

impl From<f64> for Objective {
    /// A ratio (0.999).
    fn from(ratio: f64) -> Objective {
        Objective::from_ratio(ratio)
    }
}

// Stored as its ratio (what SLO state files have always held).
impl serde::Serialize for Objective {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.ratio)
    }
}

impl<'de> serde::Deserialize<'de> for Objective {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Objective, D::Error> {
        f64::deserialize(deserializer).map(Objective::from_ratio)
    }
}

impl fmt::Display for Objective {
    /// The percentage as written, e.g. `99.9`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.percent)
    }
}

/// `value` as `digits / 10^scale`, from its shortest round-trip text (never in exponent form).
fn decimal(value: f64) -> (u128, u32) {
    let text = format!("{value}");
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let digits = format!("{int}{frac}").parse().unwrap_or(0);
    (digits, frac.len() as u32)
}

/// The double nearest `digits / 10^scale`.
fn exact(digits: u128, scale: u32) -> Option<f64> {
    format!("{digits}e-{scale}").parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_and_budget_are_the_decimals_written() {
        let o = Objective::from_percent(99.9);
        assert_eq!(o.ratio().to_string(), "0.999");
        assert_eq!(o.budget().to_string(), "0.001");
        assert_eq!(o.to_string(), "99.9");
        // What floating point makes of it, and what this type avoids.
        assert_eq!((1.0 - 0.999f64).to_string(), "0.0010000000000000009");
        for (percent, ratio, budget) in [
            (99.95, "0.9995", "0.0005"),
            (99.0, "0.99", "0.01"),
            (90.0, "0.9", "0.1"),
            (99.999, "0.99999", "0.00001"),
            (0.5, "0.005", "0.995"),
            (37.25, "0.3725", "0.6275"),
        ] {
            let o = Objective::from_percent(percent);
            assert_eq!(o.ratio().to_string(), ratio, "{percent}");
            assert_eq!(o.budget().to_string(), budget, "{percent}");
        }
    }

    #[test]
    fn objectives_divide_exactly_in_decimal() {
        let ratio = |percent: f64| Objective::from_percent(percent).ratio();
        assert_eq!(ratio(99.9), 0.999);
        assert_eq!(ratio(99.0), 0.99);
        assert_eq!(ratio(99.99), 0.9999);
        assert_eq!(ratio(5.0), 0.05);
        assert_eq!(ratio(0.5), 0.005);
        assert_eq!(ratio(0.0001), 0.000001);
        assert_eq!(ratio(99.95), 0.9995);
    }

    #[test]
    fn from_a_ratio_is_the_same_objective() {
        for percent in [99.9, 99.95, 99.0, 0.5, 37.25] {
            let o = Objective::from_percent(percent);
            assert_eq!(Objective::from_ratio(o.ratio()), o, "{percent}");
        }
        assert_eq!(Objective::from(0.999).budget().to_string(), "0.001");
    }
}
