# Shared by the benchmark scripts (bench-replay, bench-backfill, bench-live, bench-instances): free
# ports, stopping what they started, the simulator's history loaded into a fresh Prometheus, a
# configuration of N SLOs over its series, and Sloth's rules for them. The caller sets $bin (built
# binaries), $work (a scratch directory), and traps EXIT to stop $prometheus_pid.

# A free loopback port.
free_port() {
  local candidate
  for candidate in $(shuf -i 20000-60000 -n 50); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then echo "$candidate"; return; fi
  done
  echo "error: no free port found" >&2; exit 1
}

# stop PID: ends a process this script started (never anything by name).
stop() {
  [ -n "$1" ] || return 0
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# The machine a benchmark ran on, for its figures.
bench_machine() {
  echo "==> machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/^Mem:/ { print $2 }') GiB, Prometheus $(prometheus --version 2>&1 | head -1 | awk '{print $3}')"
}

# Seconds since $1 (a `date +%s.%N`), one decimal.
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# bench_history ORIGIN END STEP: the simulator's history from ORIGIN to END (unix seconds), a sample
# every STEP seconds, written into $work/prometheus as TSDB blocks.
bench_history() {
  local origin=$1 end=$2 scrape_step=$3 t0 size
  echo "==> writing $(((end - origin) / 86400)) days of history every ${scrape_step}s and loading it with promtool"
  t0=$(date +%s.%N)
  "$bin/burnwatch-sim" history --origin "$origin" --live "$((end + 60))" --step "$scrape_step" > "$work/history.om"
  size=$(du -h "$work/history.om" | cut -f1)
  # promtool (2.42) parses its whole input once per 2-hour block, so 61 days in one file take ten
  # minutes; one file per day (each family's TYPE line, its samples of the day, # EOF) takes seconds.
  mkdir "$work/days"
  awk -v dir="$work/days" -v origin="$origin" '
    /^# EOF/ { next }
    /^#/ { type = $0; family++; next }
    {
      file = sprintf("%s/%03d.om", dir, int(($NF - origin) / 86400))
      if (typed[file] != family) { print type > file; typed[file] = family }
      print > file
    }
    END { for (file in typed) { print "# EOF" > file; close(file) } }' "$work/history.om"
  rm -f "$work/history.om"
  find "$work/days" -name '*.om' -print0 | sort -z |
    xargs -0 -P "$(nproc)" -I{} promtool tsdb create-blocks-from openmetrics --quiet {} "$work/prometheus" >/dev/null
  rm -rf "$work/days"
  echo "    $size of OpenMetrics, $(du -sh "$work/prometheus" | cut -f1) of blocks, $(elapsed "$t0") s"
}

# bench_prometheus: Prometheus on a free loopback port over $work/prometheus ($port, $prometheus_pid),
# once it has compacted the backfilled blocks.
bench_prometheus() {
  local t0 last stable blocks
  port=$(free_port)
  # The query log holds every query with what Prometheus' `stats=all` would report for it.
  printf 'global:\n  scrape_interval: 1m\n  query_log_file: %s\n' "$work/queries.log" > "$work/prometheus.yml"
  # More global settings, rule files and scrape jobs (YAML continuing the global block).
  [ -z "${PROMETHEUS_EXTRA:-}" ] || printf '%s\n' "$PROMETHEUS_EXTRA" >> "$work/prometheus.yml"
  prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prometheus" \
    --web.listen-address="127.0.0.1:$port" --storage.tsdb.retention.time=400d \
    >"$work/prometheus.log" 2>&1 &
  prometheus_pid=$!
  for _ in $(seq 1 240); do
    curl -fsS "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && break
    sleep 0.5
  done
  curl -fsS "http://127.0.0.1:$port/-/ready" >/dev/null || { echo "Prometheus did not start; log:" >&2; cat "$work/prometheus.log" >&2; exit 1; }
  # Prometheus compacts the hundreds of 2-hour blocks into a few large ones a minute after start;
  # queries during that compete with it, and a long-running Prometheus would hold compacted blocks.
  # Without backfilled blocks there is nothing to wait for.
  [ -n "$(find "$work/prometheus" -mindepth 1 -maxdepth 1 -type d -name '01*' -print -quit)" ] || return 0
  echo "==> waiting for Prometheus to compact the backfilled blocks"
  t0=$(date +%s.%N)
  last="" stable=0
  for _ in $(seq 1 300); do
    sleep 2
    blocks=$(metric prometheus_tsdb_blocks_loaded)
    if [ "$(metric prometheus_tsdb_compactions_total)" != 0 ] && [ "$blocks" = "$last" ]; then
      stable=$((stable + 1))
      [ "$stable" -ge 5 ] && break
    else
      stable=0
    fi
    last=$blocks
  done
  echo "    $blocks blocks, $(elapsed "$t0") s"
}

# The value of Prometheus' own metric $1 (its first sample).
metric() { curl -fsS "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m && !seen { print $2; seen = 1 }'; }

# bench_config N FILE: N SLOs over the simulator's series, five SLI shapes x four objectives.
bench_config() {
  local n=$1 config=$2 objectives routes les i objective route le
  {
    printf '[backends.main]\ntype = "prometheus"\nurl = "http://127.0.0.1:%s"\ntimeout = "60s"\n\n' "$port"
    printf '[defaults]\nbackend = "main"\nperiod = "30d"\n\n'
    objectives=(99.0 99.5 99.9 99.95)
    routes=('/pay' '/cart')
    les=(0.1 0.3 1)
    for i in $(seq 0 $((n - 1))); do
      objective=${objectives[$(((i / 5) % 4))]}
      route=${routes[$((i % 2))]}
      le=${les[$((i % 3))]}
      printf '[[slo]]\nservice = "checkout"\nobjective = %s\n' "$objective"
      case $((i % 5)) in
        0) printf 'name = "availability-%03d"\n[slo.sli.ratio]\n' "$i"
           printf "errors = 'http_requests_total{service=\"checkout\",code=~\"5..\"}'\n"
           printf "total = 'http_requests_total{service=\"checkout\"}'\n" ;;
        1) printf 'name = "availability-by-route-%03d"\ngroup_by = ["route"]\n[slo.sli.ratio]\n' "$i"
           printf "errors = 'http_requests_total{service=\"checkout\",code=~\"5..\"}'\n"
           printf "total = 'http_requests_total{service=\"checkout\"}'\n" ;;
        2) printf 'name = "success-%03d"\n[slo.sli.ratio]\n' "$i"
           printf "good = 'http_requests_total{service=\"checkout\",route=\"%s\",code!~\"5..\"}'\n" "$route"
           printf "total = 'http_requests_total{service=\"checkout\",route=\"%s\"}'\n" "$route" ;;
        3) printf 'name = "latency-by-route-%03d"\ngroup_by = ["route"]\n[slo.sli.latency]\n' "$i"
           printf "histogram = 'http_request_duration_seconds{service=\"checkout\"}'\nle = \"%s\"\n" "$le" ;;
        4) printf 'name = "latency-%03d"\n[slo.sli.latency]\n' "$i"
           printf "histogram = 'http_request_duration_seconds{service=\"checkout\",route=\"%s\"}'\nle = \"%s\"\n" "$route" "$le" ;;
      esac
      printf '\n'
    done
  } > "$config"
}

# bench_slo N: the Nth SLO of bench_config as shell variables: name, grouped (0/1), and the PromQL
# of its error and total rates with `WINDOW` where the range goes (as Sloth writes `{{.window}}`).
bench_slo() {
  local i=$1 objectives routes les route le by
  objectives=(99.0 99.5 99.9 99.95)
  routes=('/pay' '/cart')
  les=(0.1 0.3 1)
  objective=${objectives[$(((i / 5) % 4))]}
  route=${routes[$((i % 2))]}
  le=${les[$((i % 3))]}
  grouped=0 by=""
  case $((i % 5)) in
    1 | 3) grouped=1 by="by (route) " ;;
  esac
  case $((i % 5)) in
    0 | 1)
      name=$(printf 'availability-%s%03d' "$([ "$grouped" = 1 ] && echo by-route-)" "$i")
      errors="sum ${by}(rate(http_requests_total{service=\"checkout\",code=~\"5..\"}[WINDOW]))"
      total="sum ${by}(rate(http_requests_total{service=\"checkout\"}[WINDOW]))" ;;
    2)
      name=$(printf 'success-%03d' "$i")
      total="sum(rate(http_requests_total{service=\"checkout\",route=\"$route\"}[WINDOW]))"
      errors="$total - sum(rate(http_requests_total{service=\"checkout\",route=\"$route\",code!~\"5..\"}[WINDOW]))" ;;
    3)
      name=$(printf 'latency-by-route-%03d' "$i")
      total="sum by (route) (rate(http_request_duration_seconds_count{service=\"checkout\"}[WINDOW]))"
      errors="$total - sum by (route) (rate(http_request_duration_seconds_bucket{service=\"checkout\",le=\"$le\"}[WINDOW]))" ;;
    4)
      name=$(printf 'latency-%03d' "$i")
      total="sum(rate(http_request_duration_seconds_count{service=\"checkout\",route=\"$route\"}[WINDOW]))"
      errors="$total - sum(rate(http_request_duration_seconds_bucket{service=\"checkout\",route=\"$route\",le=\"$le\"}[WINDOW]))" ;;
  esac
}

# bench_sloth_rules N RULES ORIGIN END: the recording and alerting rules Sloth generates for the
# first N SLOs of bench_config (the shapes of slok/sloth's examples/_gen/getting-started.yml: SLI
# ratios over 5m..3d, the 30d average of the 5m ratios, meta rules, a page and a ticket alert),
# written to RULES; and 30 days before END of the 5m ratio series, one sample every 30 s, loaded
# into $work/prometheus with promtool (what a Prometheus that has run those rules for a month
# holds; the 30d rule reads them all at every evaluation). Call it before bench_prometheus, so
# that the blocks are compacted before anything is measured.
bench_sloth_rules() {
  local n=$1 rules=$2 origin=$3 end=$4 i w sel budget series_file day from
  series_file="$work/sloth-series.txt"
  : > "$series_file"
  {
    echo "groups:"
    for i in $(seq 0 $((n - 1))); do
      bench_slo "$i"
      local id="checkout-$name"
      sel="sloth_id=\"$id\", sloth_service=\"checkout\", sloth_slo=\"$name\""
      budget=$(awk -v o="$objective" 'BEGIN { printf "%.17g", 1 - o / 100 }')
      echo "- name: sloth-slo-sli-recordings-$id"
      echo "  rules:"
      for w in 5m 30m 1h 2h 6h 1d 3d; do
        echo "  - record: slo:sli_error:ratio_rate$w"
        echo "    expr: '(${errors//WINDOW/$w}) / (${total//WINDOW/$w})'"
        echo "    labels: {sloth_id: \"$id\", sloth_service: checkout, sloth_slo: \"$name\", sloth_window: $w}"
      done
      echo "  - record: slo:sli_error:ratio_rate30d"
      echo "    expr: 'sum_over_time(slo:sli_error:ratio_rate5m{$sel}[30d]) / ignoring (sloth_window) count_over_time(slo:sli_error:ratio_rate5m{$sel}[30d])'"
      echo "    labels: {sloth_window: 30d}"
      echo "- name: sloth-slo-meta-recordings-$id"
      echo "  rules:"
      local labels="{sloth_id: \"$id\", sloth_service: checkout, sloth_slo: \"$name\"}"
      echo "  - {record: 'slo:objective:ratio', expr: 'vector($(awk -v o="$objective" 'BEGIN { printf "%.17g", o / 100 }'))', labels: $labels}"
      echo "  - {record: 'slo:error_budget:ratio', expr: 'vector($budget)', labels: $labels}"
      echo "  - {record: 'slo:time_period:days', expr: 'vector(30)', labels: $labels}"
      echo "  - {record: 'slo:current_burn_rate:ratio', expr: 'slo:sli_error:ratio_rate5m{$sel} / on(sloth_id, sloth_slo, sloth_service) group_left slo:error_budget:ratio{$sel}', labels: $labels}"
      echo "  - {record: 'slo:period_burn_rate:ratio', expr: 'slo:sli_error:ratio_rate30d{$sel} / on(sloth_id, sloth_slo, sloth_service) group_left slo:error_budget:ratio{$sel}', labels: $labels}"
      echo "  - {record: 'slo:period_error_budget_remaining:ratio', expr: '1 - slo:period_burn_rate:ratio{$sel}', labels: $labels}"
      echo "  - {record: 'sloth_slo_info', expr: 'vector(1)', labels: {sloth_id: \"$id\", sloth_service: checkout, sloth_slo: \"$name\", sloth_objective: \"$objective\", sloth_spec: prometheus/v1, sloth_mode: cli-gen-prom, sloth_version: dev}}"
      echo "- name: sloth-slo-alerts-$id"
      echo "  rules:"
      local pair
      for pair in "page 14.4 5m 1h 6 30m 6h" "ticket 3 2h 1d 1 6h 3d"; do
        set -- $pair
        echo "  - alert: BenchHighErrorRate"
        echo "    expr: '((slo:sli_error:ratio_rate$3{$sel} > ($2 * $budget)) and ignoring (sloth_window) (slo:sli_error:ratio_rate$4{$sel} > ($2 * $budget))) or ignoring (sloth_window) ((slo:sli_error:ratio_rate$6{$sel} > ($5 * $budget)) and ignoring (sloth_window) (slo:sli_error:ratio_rate$7{$sel} > ($5 * $budget)))'"
        echo "    labels: {sloth_severity: $1}"
      done
      if [ "$grouped" = 1 ]; then
        printf '%s,route="/pay"\n%s,route="/cart"\n' "$id|$name" "$id|$name" >> "$series_file"
      else
        printf '%s\n' "$id|$name" >> "$series_file"
      fi
    done
  } > "$rules"
  promtool check rules --lint=none "$rules" >/dev/null || { echo "error: the generated Sloth rules do not load" >&2; promtool check rules --lint=none "$rules" >&2; exit 1; }
  # The recorded 5m ratios, one file a day (see bench_history), loaded day by day.
  mkdir -p "$work/sloth-days"
  from=$((end - 30 * 86400))
  for day in $(seq 0 29); do
    awk -v t0="$((from + day * 86400))" -v list="$series_file" 'BEGIN {
        n = 0
        while ((getline line < list) > 0) {
          split(line, part, "|"); extra = ""
          if (index(part[2], ",")) { extra = substr(part[2], index(part[2], ",")); part[2] = substr(part[2], 1, index(part[2], ",") - 1) }
          label[n++] = sprintf("sloth_id=\"%s\",sloth_service=\"checkout\",sloth_slo=\"%s\",sloth_window=\"5m\"%s", part[1], part[2], extra)
        }
        print "# TYPE slo:sli_error:ratio_rate5m gauge"
        for (t = t0; t < t0 + 86400; t += 30)
          for (i = 0; i < n; i++) printf "slo:sli_error:ratio_rate5m{%s} 0.001 %d\n", label[i], t
        print "# EOF"
      }' > "$work/sloth-days/$day.om"
  done
  find "$work/sloth-days" -name '*.om' -print0 | sort -z |
    xargs -0 -P "$(nproc)" -I{} promtool tsdb create-blocks-from openmetrics --quiet {} "$work/prometheus" >/dev/null
  rm -rf "$work/sloth-days"
}
