//! `[[discover]]` at run time: reads each discovery's label values from its backend every
//! `interval`, keeps the set of values that have SLOs (new values in, vanished ones kept for
//! `grace` then retired, at most `cap`), and hands the SLOs they expand to to the running
//! [`crate::slos::SloSet`], which applies them as a reload does (unchanged SLOs run on, new ones
//! backfill, retired ones stop).
//!
//! A failing read keeps the last known values: nothing is retired while the backend cannot be
//! asked, and grace periods end only at a successful round. The cap is stable: values holding
//! SLOs keep them; new values take the free places in sorted order, the rest are dropped (and
//! counted) at each round.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use burnwatch_http::{DiscoveryRow, DiscoveryView};
use burnwatch_scheduler::{Backend, Read, SchedulerMetrics, now_millis};
use burnwatch_spec::{Config, Discover, Slo};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

type Labels = Vec<(String, String)>;

/// The discovery self-metrics, by `discover` name.
#[derive(Debug, Clone, Default)]
pub struct DiscoveryMetrics {
    slos: Family<Labels, Gauge>,
    values: Family<Labels, Gauge>,
    in_grace: Family<Labels, Gauge>,
    capped: Family<Labels, Gauge>,
    added: Family<Labels, Counter>,
    retired: Family<Labels, Counter>,
    errors: Family<Labels, Counter>,
}

impl DiscoveryMetrics {
    /// Registers every discovery metric.
    pub fn register(registry: &mut Registry) -> Self {
        let m = DiscoveryMetrics::default();
        registry.register(
            "burnwatch_discovered_slos",
            "SLOs a [[discover]] runs now (present values and values in their grace period).",
            m.slos.clone(),
        );
        registry.register(
            "burnwatch_discovery_values",
            "Label values a [[discover]] found at its latest successful round, after allow and deny.",
            m.values.clone(),
        );
        registry.register(
            "burnwatch_discovery_in_grace",
            "Discovered SLOs whose value vanished, kept until their grace period ends.",
            m.in_grace.clone(),
        );
        registry.register(
            "burnwatch_discovery_capped",
            "Values a [[discover]] left without SLOs because of its cap, at its latest successful round.",
            m.capped.clone(),
        );
        registry.register(
            "burnwatch_discovery_added",
            "Discovered SLOs added (a value appeared).",
            m.added.clone(),
        );
        registry.register(
            "burnwatch_discovery_retired",
            "Discovered SLOs retired (their value stayed away for the grace period).",
            m.retired.clone(),
        );
        registry.register(
            "burnwatch_discovery_errors",
            "Discovery problems: kind=\"backend\" (the values could not be read; the last known set is kept) or kind=\"template\" (a value made no valid SLO).",
            m.errors.clone(),
        );
        m
    }

    fn error(&self, discover: &str, kind: &str) {
        self.errors
            .get_or_create(&vec![
                ("discover".into(), discover.into()),
                ("kind".into(), kind.into()),
            ])
            .inc();
    }
}

fn by(discover: &str) -> Labels {
    vec![("discover".to_string(), discover.to_string())]
}

/// A value holding an SLO.
#[derive(Debug, Clone)]
struct Held {
    slo: Slo,
    /// When a successful round first missed it.
    gone_since: Option<Instant>,
}

/// One `[[discover]]` and what it holds.
#[derive(Debug)]
struct Entry {
    def: Discover,
    due: Instant,
    held: BTreeMap<String, Held>,
    found: usize,
    capped: usize,
    error: Option<String>,
}

/// Every discovery of the running configuration.
pub struct Discovery {
    entries: Vec<Entry>,
    backends: BTreeMap<String, Arc<dyn Backend>>,
    /// Ids of the file's own SLOs: a discovered SLO may not take one.
    file_ids: BTreeSet<String>,
    metrics: DiscoveryMetrics,
    view: DiscoveryView,
}

impl Discovery {
    /// Discoveries of `config` (none yet read), every one due at once.
    pub fn new(
        config: &Config,
        scheduler: &Arc<SchedulerMetrics>,
        metrics: DiscoveryMetrics,
        view: DiscoveryView,
    ) -> Self {
        let mut discovery = Discovery {
            entries: Vec::new(),
            backends: BTreeMap::new(),
            file_ids: BTreeSet::new(),
            metrics,
            view,
        };
        discovery.configure(config, scheduler);
        discovery
    }

    /// Takes the discoveries of a reloaded `config`: one of the same name keeps its values
    /// (their SLOs expanded again from the new template), a new one is due at once, a removed
    /// one drops its SLOs.
    pub fn configure(&mut self, config: &Config, scheduler: &Arc<SchedulerMetrics>) {
        match crate::backends::connect(config, scheduler) {
            Ok(backends) => self.backends = backends,
            Err(err) => tracing::error!(error = ?err, "discovery: cannot build backend clients"),
        }
        self.file_ids = config.slos.iter().map(|s| s.id.clone()).collect();
        let mut old: BTreeMap<String, Entry> = std::mem::take(&mut self.entries)
            .into_iter()
            .map(|e| (e.def.name.clone(), e))
            .collect();
        let now = Instant::now();
        for def in &config.discover {
            let entry = match old.remove(&def.name) {
                Some(mut entry) => {
                    let mut held = BTreeMap::new();
                    for (value, h) in std::mem::take(&mut entry.held) {
                        if let Some(slo) = self.expand(def, &value) {
                            held.insert(value, Held { slo, ..h });
                        }
                    }
                    entry.held = held;
                    entry.due = entry.due.min(now + def.interval);
                    entry.def = def.clone();
                    entry
                }
                None => Entry {
                    def: def.clone(),
                    due: now,
                    held: BTreeMap::new(),
                    found: 0,
                    capped: 0,
                    error: None,
                },
            };
            self.entries.push(entry);
        }
        for (name, entry) in old {
            tracing::info!(
                discover = %name,
                slos = entry.held.len(),
                "[[discover]] removed from the configuration: its SLOs stop"
            );
            self.metrics.slos.get_or_create(&by(&name)).set(0);
        }
        self.publish();
    }

    /// When the next discovery is due (none: there is no discovery).
    pub fn next_due(&self) -> Option<Instant> {
        self.entries.iter().map(|e| e.due).min()
    }

    /// Runs every discovery that is due; whether the SLOs changed.
    pub async fn run_due(&mut self) -> bool {
        let now = Instant::now();
        let mut changed = false;
        for i in 0..self.entries.len() {
            if self.entries[i].due > now {
                continue;
            }
            self.entries[i].due = now + self.entries[i].def.interval;
            let def = self.entries[i].def.clone();
            let read = self.read(&def).await;
            changed |= self.observe(i, read, Instant::now());
        }
        self.publish();
        changed
    }

    /// The label values present now on `def`'s backend.
    async fn read(&self, def: &Discover) -> Result<BTreeSet<String>, String> {
        let backend = self
            .backends
            .get(&def.backend)
            .ok_or_else(|| format!("backend `{}` has no client", def.backend))?;
        let read = Read::LabelValues {
            selector: &def.selector,
            label: &def.label,
        };
        let result = backend
            .instant(read, now_millis())
            .await
            .map_err(|err| err.to_string())?;
        Ok(result
            .series
            .into_iter()
            .filter_map(|s| s.labels.get(&def.label).cloned())
            .filter(|v| !v.is_empty())
            .collect())
    }

    /// Applies one round's outcome to entry `i`; whether its SLOs changed.
    fn observe(&mut self, i: usize, read: Result<BTreeSet<String>, String>, now: Instant) -> bool {
        let name = self.entries[i].def.name.clone();
        let found = match read {
            Ok(found) => found,
            Err(err) => {
                tracing::warn!(
                    discover = %name,
                    error = %err,
                    "discovery: cannot read the label values; keeping the last known set"
                );
                self.metrics.error(&name, "backend");
                self.entries[i].error = Some(format!("backend: {err}"));
                return false;
            }
        };
        let def = self.entries[i].def.clone();
        let admitted: BTreeSet<String> = found.into_iter().filter(|v| def.admits(v)).collect();
        let mut changed = false;
        let mut entry_error = None;
        // Held values: present again, newly missing, or retired after their grace period.
        let mut retired = Vec::new();
        for (value, held) in self.entries[i].held.iter_mut() {
            if admitted.contains(value) {
                if held.gone_since.take().is_some() {
                    tracing::info!(discover = %name, value = %value, "discovered value is back: its SLO runs on with its state");
                }
            } else {
                let since = *held.gone_since.get_or_insert_with(|| {
                    tracing::info!(discover = %name, value = %value, grace = ?def.grace, "discovered value vanished: its SLO keeps its state for the grace period");
                    now
                });
                if now.duration_since(since) >= def.grace {
                    retired.push(value.clone());
                }
            }
        }
        for value in retired {
            self.entries[i].held.remove(&value);
            tracing::info!(discover = %name, value = %value, "discovered SLO retired: its value stayed away for the grace period");
            self.metrics.retired.get_or_create(&by(&name)).inc();
            changed = true;
        }
        // New values take the free places in sorted order.
        let new: Vec<String> = admitted
            .iter()
            .filter(|v| !self.entries[i].held.contains_key(*v))
            .cloned()
            .collect();
        let mut capped = 0;
        for value in new {
            if self.entries[i].held.len() >= def.cap {
                capped += 1;
                continue;
            }
            let Some(slo) = self.expand(&def, &value) else {
                self.metrics.error(&name, "template");
                entry_error = Some(format!("value {value:?} makes no valid SLO; see the log"));
                continue;
            };
            tracing::info!(discover = %name, value = %value, slo = %slo.id, "discovered value appeared: its SLO starts (with a backfill)");
            self.metrics.added.get_or_create(&by(&name)).inc();
            self.entries[i].held.insert(
                value,
                Held {
                    slo,
                    gone_since: None,
                },
            );
            changed = true;
        }
        let entry = &mut self.entries[i];
        if capped > 0 && capped != entry.capped {
            tracing::warn!(
                discover = %name,
                cap = def.cap,
                dropped = capped,
                "discovery cap reached: values beyond it get no SLOs (raise `cap` or narrow `allow`)"
            );
        }
        entry.found = admitted.len();
        entry.capped = capped;
        entry.error = entry_error;
        changed
    }

    /// The SLO of `value`, or `None` after logging why it has none.
    fn expand(&self, def: &Discover, value: &str) -> Option<Slo> {
        match def.expand(value) {
            Ok(slo) if self.file_ids.contains(&slo.id) => {
                tracing::error!(discover = %def.name, value = %value, slo = %slo.id, "discovered SLO skipped: an [[slo]] of the file has the same id");
                None
            }
            Ok(slo) => Some(slo),
            Err(errors) => {
                for error in errors.iter() {
                    tracing::error!(discover = %def.name, value = %value, problem = %error, "discovered value makes no valid SLO");
                }
                None
            }
        }
    }

    /// Every discovered SLO, by discovery then value; an id already taken by an earlier
    /// discovery is skipped.
    pub fn slos(&self) -> Vec<Slo> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for entry in &self.entries {
            for held in entry.held.values() {
                if seen.insert(held.slo.id.clone()) {
                    out.push(held.slo.clone());
                } else {
                    tracing::warn!(discover = %entry.def.name, slo = %held.slo.id, "discovered SLO skipped: another discovery made the same id");
                }
            }
        }
        out
    }

    /// Updates the gauges and the status page rows.
    fn publish(&self) {
        let mut rows = Vec::new();
        for entry in &self.entries {
            let name = &entry.def.name;
            let in_grace = entry
                .held
                .values()
                .filter(|h| h.gone_since.is_some())
                .count();
            self.metrics
                .slos
                .get_or_create(&by(name))
                .set(entry.held.len() as i64);
            self.metrics
                .values
                .get_or_create(&by(name))
                .set(entry.found as i64);
            self.metrics
                .in_grace
                .get_or_create(&by(name))
                .set(in_grace as i64);
            self.metrics
                .capped
                .get_or_create(&by(name))
                .set(entry.capped as i64);
            // Counters exist from the start, so a rate over them works before the first change.
            let _ = self.metrics.added.get_or_create(&by(name));
            let _ = self.metrics.retired.get_or_create(&by(name));
            rows.push(DiscoveryRow {
                name: name.clone(),
                label: entry.def.label.clone(),
                found: entry.found,
                active: entry.held.len(),
                in_grace,
                capped: entry.capped,
                cap: entry.def.cap,
                error: entry.error.clone(),
            });
        }
        self.view.set(rows);
    }
}

/// How long the daemon waits for the next discovery round at most (also without any).
pub const IDLE: Duration = Duration::from_secs(3600);

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
[backends.main]
type = "prometheus"
url = "http://127.0.0.1:1"

[[slo]]
service = "taken"
name = "availability"
objective = 99
[slo.sli.ratio]
errors = 'x{code="5"}'
total = 'x'

[[discover]]
name = "http"
selector = 'x'
label = "service"
cap = 2
grace = "10m"
[discover.slo]
name = "availability"
objective = 99.9
[discover.slo.sli.ratio]
errors = 'x{service="{{ .service }}",code="5"}'
total = 'x{service="{{ .service }}"}'
"#;

    fn discovery() -> Discovery {
        let config =
            burnwatch_spec::parse(CONFIG, std::path::Path::new("burnwatch.toml"), &|_| None)
                .unwrap_or_else(|e| panic!("{e}"));
        let scheduler = Arc::new(SchedulerMetrics::register(&mut Registry::default()));
        Discovery::new(
            &config,
            &scheduler,
            DiscoveryMetrics::default(),
            DiscoveryView::default(),
        )
    }

    fn values(names: &[&str]) -> Result<BTreeSet<String>, String> {
        Ok(names.iter().map(|s| s.to_string()).collect())
    }

    fn ids(d: &Discovery) -> Vec<String> {
        d.slos().into_iter().map(|s| s.id).collect()
    }

    #[test]
    fn the_cap_keeps_held_values_and_fills_free_places_in_sorted_order() {
        let mut d = discovery();
        let t0 = Instant::now();
        assert!(d.observe(0, values(&["c", "b", "d"]), t0));
        assert_eq!(ids(&d), ["b-availability", "c-availability"]);
        assert_eq!(d.entries[0].capped, 1);
        // A value sorting first does not push out one that holds an SLO.
        assert!(!d.observe(0, values(&["a", "b", "c", "d"]), t0));
        assert_eq!(ids(&d), ["b-availability", "c-availability"]);
        assert_eq!(d.entries[0].capped, 2);
    }

    #[test]
    fn a_failing_read_retires_nothing_and_grace_ends_at_a_successful_round() {
        let mut d = discovery();
        let t0 = Instant::now();
        d.observe(0, values(&["a", "b"]), t0);
        assert!(
            !d.observe(0, values(&["a"]), t0),
            "b is in its grace period"
        );
        assert_eq!(ids(&d).len(), 2);
        let late = t0 + Duration::from_secs(3600);
        assert!(!d.observe(0, Err("connection refused".into()), late));
        assert_eq!(ids(&d).len(), 2, "a backend error never retires");
        assert!(d.entries[0].error.as_deref().unwrap().contains("refused"));
        assert!(
            d.observe(0, values(&["a"]), late),
            "retired after the grace period"
        );
        assert_eq!(ids(&d), ["a-availability"]);
        // Back before retirement: kept, grace forgotten.
        d.observe(0, values(&["a", "b"]), late);
        d.observe(0, values(&["b"]), late + Duration::from_secs(1));
        d.observe(0, values(&["a", "b"]), late + Duration::from_secs(599));
        assert!(!d.observe(0, values(&["a", "b"]), late + Duration::from_secs(700)));
        assert_eq!(ids(&d).len(), 2);
    }

    #[test]
    fn a_value_whose_slo_an_slo_of_the_file_has_gets_none() {
        let mut d = discovery();
        d.observe(0, values(&["taken", "z"]), Instant::now());
        assert_eq!(ids(&d), ["z-availability"]);
    }
}
