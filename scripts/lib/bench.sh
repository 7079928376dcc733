# Shared by the benchmark scripts (bench-replay, bench-backfill): the simulator's history loaded
# into a fresh Prometheus, and a configuration of N SLOs over its series. The caller sets $bin
# (built binaries), $work (a scratch directory), and traps EXIT to stop $prometheus_pid.

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
  local candidate t0 last stable blocks
  port=""
  for candidate in $(shuf -i 20000-60000 -n 50); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then port=$candidate; break; fi
  done
  [ -n "$port" ] || { echo "error: no free port found" >&2; exit 1; }
  # The query log holds every query with what Prometheus' `stats=all` would report for it.
  printf 'global:\n  scrape_interval: 1m\n  query_log_file: %s\n' "$work/queries.log" > "$work/prometheus.yml"
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
