//! From the raw layer to the validated model: every section checked, every problem reported.

use std::collections::BTreeMap;
use std::path::Path;

use crate::context::Ctx;
use crate::decode::RawDocument;
use crate::error::ErrorKind;
use crate::location::Location;
use crate::model::Config;

/// Builds the [`Config`]; `None` when any problem was reported (including earlier ones).
pub(crate) fn validate(ctx: &mut Ctx<'_>, doc: &RawDocument, file: &Path) -> Option<Config> {
    let config_dir = file.parent().unwrap_or(Path::new(""));
    let server = crate::server::server(ctx, doc, config_dir);
    let record = crate::record::record(ctx, doc.record.as_ref());
    let names: Vec<&str> = doc
        .backends
        .iter()
        .map(|(name, _)| name.get_ref().as_str())
        .collect();
    let mut backends = BTreeMap::new();
    for (name, raw) in &doc.backends {
        if let Some(backend) = crate::backend::backend(ctx, name, raw, config_dir) {
            backends.insert(backend.name.clone(), backend);
        }
    }
    let defaults = crate::defaults::defaults(ctx, doc.defaults.as_ref(), &names);
    let tiers = crate::tier::tiers(ctx, &doc.tiers);
    let discover = crate::discover::discovers(ctx, doc, file, &defaults, &tiers, &names);
    for d in &discover {
        if backends
            .get(&d.backend)
            .is_some_and(|b| b.kind != crate::model::BackendKind::Prometheus)
        {
            ctx.push(crate::error::Error::new(
                ErrorKind::Unsupported,
                d.location.clone(),
                format!(
                    "[[discover]] `{}` reads label values from backend `{}`, which is not of \
                     type = \"prometheus\"; only Prometheus-compatible backends can list them: \
                     set `backend` to one",
                    d.name, d.backend
                ),
            ));
        }
    }
    let first = doc
        .slos
        .first()
        .map(|s| s.span())
        .or_else(|| doc.discovers.first().map(|d| d.span()));
    if names.is_empty()
        && let Some(first) = first
    {
        ctx.error(
            ErrorKind::Missing,
            &first,
            "no backend is defined, so no SLO can be evaluated: add one, e.g. [backends.main] with \
             type = \"prometheus\" and url = \"http://127.0.0.1:9090\"",
        );
    }
    let mut slos = Vec::new();
    let mut ids: BTreeMap<String, Location> = BTreeMap::new();
    for raw in &doc.slos {
        let Some(slo) = crate::slo::slo(ctx, raw, &defaults, &tiers, &names) else {
            continue;
        };
        let here = ctx.at(&raw.span());
        if let Some(backend) = backends.get(&slo.backend)
            && let Err(why) = crate::backend::suits(backend.kind, &slo.sli)
        {
            let at = raw.get_ref().sli.as_ref().map_or(raw.span(), |s| s.span());
            ctx.error(
                ErrorKind::InvalidValue,
                &at,
                format!("backend `{}`: {why}", slo.backend),
            );
        }
        match ids.get(&slo.id) {
            Some(first) => ctx.error(
                ErrorKind::Duplicate,
                &raw.span(),
                format!(
                    "SLO id `{}` (service-name) is already used by the [[slo]] at {first}; \
                     ids must be unique: change `name` or `service` of one of them",
                    slo.id
                ),
            ),
            None => {
                ids.insert(slo.id.clone(), here);
            }
        }
        slos.push(slo);
    }
    // Ids are checked only against a complete list: an SLO with errors would make patterns
    // that name it look unknown.
    let complete = slos.len() == doc.slos.len();
    let composites_ok = crate::composite::composites(
        ctx,
        &doc.composites,
        &defaults,
        &names,
        &mut slos,
        &mut ids,
        complete,
    );
    let complete = complete && composites_ok;
    let maintenance =
        crate::maintenance::validate::maintenance(ctx, &doc.maintenance, &slos, complete);
    let receiver_names: Vec<&str> = doc
        .receivers
        .iter()
        .map(|(name, _)| name.get_ref().as_str())
        .collect();
    let mut receivers = BTreeMap::new();
    for (name, raw) in &doc.receivers {
        if let Some(receiver) = crate::receiver::validate::receiver(ctx, name, raw, config_dir) {
            receivers.insert(receiver.name.clone(), receiver);
        }
    }
    let routes: Vec<_> = doc
        .routes
        .iter()
        .filter_map(|raw| crate::route::route(ctx, raw, &receiver_names))
        .collect();
    let digests =
        crate::digest::validate::digests(ctx, &doc.digests, &slos, complete, &doc.receivers);
    if ctx.has_errors() {
        return None;
    }
    Some(Config {
        source: file.to_path_buf(),
        server: server?,
        record: record?,
        backends,
        slos,
        discover,
        maintenance,
        receivers,
        routes,
        digests,
    })
}
