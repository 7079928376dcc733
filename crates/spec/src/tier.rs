//! `[tiers.<name>]`: named bundles of what an SLO may leave out (objective, latency threshold,
//! alerting keys), four of them built in. Resolution per key: the SLO's own value, then its
//! tier's, then `[defaults]`.

use std::collections::BTreeMap;

use burnwatch_engine::Objective;
use toml::Spanned;

use crate::alerting::{self, Layer};
use crate::context::Ctx;
use crate::error::ErrorKind;
use crate::raw::{RawTier, Str};

/// The built-in tiers: name, objective in percent, `le` of the latency threshold (seconds, as
/// Prometheus clients write the bucket label). Documented in docs/configuration.md.
pub(crate) const BUILT_IN: [(&str, f64, &str); 4] = [
    ("critical", 99.95, "0.1"),
    ("essential", 99.9, "0.5"),
    ("standard", 99.5, "1"),
    ("best_effort", 99.0, "2"),
];

/// One tier, checked and laid over its built-in namesake.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tier {
    /// The objective of its SLOs that set none.
    pub objective: Option<Objective>,
    /// The `le` of its latency SLIs that set none.
    pub le: Option<String>,
    /// Alerting keys between `[defaults.alerting]` and `[slo.alerting]` (never `windows`).
    pub alerting: Layer,
}

/// Every tier by name; `None`: defined in the file but invalid (reported already), so SLOs
/// naming it are skipped without a second message.
#[derive(Debug, Clone)]
pub(crate) struct Tiers(BTreeMap<String, Option<Tier>>);

/// Checks `[tiers.<name>]` and lays each over the built-in tier of the same name, if any.
pub(crate) fn tiers(ctx: &mut Ctx<'_>, raw: &[(Spanned<String>, Spanned<RawTier>)]) -> Tiers {
    let mut known: BTreeMap<String, Option<Tier>> = BUILT_IN
        .iter()
        .map(|(name, percent, le)| {
            let tier = Tier {
                objective: Some(Objective::from_percent(*percent)),
                le: Some((*le).to_string()),
                alerting: Layer::default(),
            };
            ((*name).to_string(), Some(tier))
        })
        .collect();
    for (name, table) in raw {
        let checked = crate::names::check_table_name(ctx, name, "tier")
            .then(|| tier(ctx, name.get_ref(), table))
            .flatten();
        let below = known
            .get(name.get_ref())
            .cloned()
            .flatten()
            .unwrap_or_default();
        let merged = checked.map(|own| Tier {
            objective: own.objective.or(below.objective),
            le: own.le.or(below.le),
            alerting: alerting::over(&own.alerting, &below.alerting),
        });
        known.insert(name.get_ref().clone(), merged);
    }
    Tiers(known)
}

fn tier(ctx: &mut Ctx<'_>, name: &str, raw: &Spanned<RawTier>) -> Option<Tier> {
    let span = raw.span();
    let raw = raw.get_ref();
    let table = format!("[tiers.{name}]");
    let objective = match &raw.objective {
        None => Some(None),
        Some(_) => crate::slo::objective(ctx, raw.objective.as_ref(), &span, &table).map(Some),
    };
    let le = match &raw.le {
        None => Some(None),
        Some(text) => crate::sli::le(ctx, text).map(Some),
    };
    if let Some(windows) = raw
        .alerting
        .as_ref()
        .and_then(|a| a.get_ref().windows.as_ref())
    {
        let at = ctx.key_span(&windows.span(), "windows");
        ctx.error(
            ErrorKind::InvalidValue,
            &at,
            format!(
                "{table} cannot set alert `windows`: they must fit each SLO's period; set them \
                 in [defaults.alerting] or [slo.alerting]"
            ),
        );
        return None;
    }
    let alerting = alerting::layer(
        ctx,
        raw.alerting.as_ref(),
        &format!("[tiers.{name}.alerting]"),
        None,
    );
    Some(Tier {
        objective: objective?,
        le: le?,
        alerting: alerting?,
    })
}

impl Tiers {
    /// The tier `text` names; `None` after reporting an unknown name (with the known ones and
    /// the closest), or for a tier whose own problems were reported.
    pub(crate) fn find(&self, ctx: &mut Ctx<'_>, text: &Str) -> Option<&Tier> {
        let name = ctx.expand(text)?;
        if let Some(tier) = self.0.get(&name) {
            return tier.as_ref();
        }
        let names: Vec<&str> = self.0.keys().map(String::as_str).collect();
        let hint = crate::suggest::closest(&name, &names)
            .map(|t| format!("did you mean \"{t}\"? "))
            .unwrap_or_default();
        ctx.error(
            ErrorKind::InvalidValue,
            &text.span(),
            format!(
                "tier {name:?} is not defined; {hint}known tiers: {} (add [tiers.{name}] to \
                 define it)",
                names.join(", ")
            ),
        );
        None
    }
}
