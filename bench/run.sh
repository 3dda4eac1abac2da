#!/bin/bash
# bench/run.sh BUILD_DIR — koban's benchmarks beside Alertmanager, on 127.0.0.1 only.
#
# Runs every benchmark BENCH_RUNS times (default 5), each on a fresh server
# and a fresh data directory under /tmp (removed at exit), and prints a table
# of medians (with min and max), the ratio against Alertmanager measured in
# the same run, the target and whether it is met. See docs/BENCHMARKS.md.
#
#   1. http_batch   POST /v1/events, 100 CloudTrail events per request
#   2. http_single  one event per request, many keep-alive connections
#   3. ingest_file  `koban ingest` of an NDJSON file of CloudTrail events
#   4. memory       daemon RSS per open issue after 1M distinct issues via HTTP
#   6. notify       ingest with 1% of events notifying vs none, delivery rate per
#                   receiver, RSS with 1M jobs queued for a receiver that is down
#
# Knobs (environment): BENCH_RUNS, BENCH_BATCH_REQUESTS, BENCH_BATCH_CONNS,
# BENCH_SINGLE_REQUESTS, BENCH_SINGLE_CONNS, BENCH_INGEST_EVENTS,
# BENCH_MEM_EVENTS, BENCH_MEM_RUNS, BENCH_DISTINCT, BENCH_DURATION_S,
# BENCH_AM_BATCHES, BENCH_AM_SINGLE, BENCH_MAX_S (stop starting new runs
# after this many seconds), BENCH_APPLY_WAIT_S (bound on waiting for the store), KOBAN_BENCH_DATA (CloudTrail samples),
# KOBAN_AM_KIT (the Alertmanager load kit), BENCH_KEEP=1 (keep the temp dir);
# notifications: BENCH_NOTIFY=0 (skip), BENCH_NOTIFY_REQUESTS, BENCH_NOTIFY_JOBS,
# BENCH_NOTIFY_QUEUE_JOBS, BENCH_NOTIFY_QUEUE_RUNS, BENCH_NOTIFY_MAX_S (see section 6).
set -euo pipefail

BUILD=${1:?usage: bench/run.sh BUILD_DIR}
BUILD=$(cd "$BUILD" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KOBAN=$BUILD/koban
LOAD=$BUILD/bench_load
ING=$BUILD/bench_ingest
RUNS=${BENCH_RUNS:-5}
BATCH_REQ=${BENCH_BATCH_REQUESTS:-3000}
BATCH_CONNS=${BENCH_BATCH_CONNS:-8}
SINGLE_REQ=${BENCH_SINGLE_REQUESTS:-200000}
SINGLE_CONNS=${BENCH_SINGLE_CONNS:-256}
INGEST_EVENTS=${BENCH_INGEST_EVENTS:-1000000}
MEM_EVENTS=${BENCH_MEM_EVENTS:-1000000}
MEM_RUNS=${BENCH_MEM_RUNS:-1}
DISTINCT=${BENCH_DISTINCT:-1000}
DUR=${BENCH_DURATION_S:-20}
AM_BATCHES=${BENCH_AM_BATCHES:-1000}
AM_SINGLE=${BENCH_AM_SINGLE:-10000}
MAX_S=${BENCH_MAX_S:-780}
DATA=${KOBAN_BENCH_DATA:-$ROOT/../shared/data/cloudtrail}
AMKIT=${KOBAN_AM_KIT:-$ROOT/../shared/peers/alertmanager}
AMBIN=$(command -v prometheus-alertmanager || true)

for f in "$KOBAN" "$LOAD" "$ING"; do
    [ -x "$f" ] || { echo "bench: $f is missing (make bench builds it)" >&2; exit 2; }
done
unset KOBAN_CONFIG
TMP=$(mktemp -d /tmp/koban-bench.XXXXXX)
RES=$TMP/results.txt
: > "$RES"
KPID="" AMPID="" RPID=""
T_START=$(date +%s)

cleanup() {
    [ -n "$KPID" ] && kill -TERM "$KPID" 2>/dev/null && wait "$KPID" 2>/dev/null || true
    [ -n "$AMPID" ] && kill -TERM "$AMPID" 2>/dev/null && wait "$AMPID" 2>/dev/null || true
    [ -n "$RPID" ] && kill -TERM "$RPID" 2>/dev/null && wait "$RPID" 2>/dev/null || true
    if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench: kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$TMP"   # no ./koban.yaml is picked up: built-in defaults

log() { printf '%s\n' "$*" >&2; }
# kv "LINE" KEY -> the value of KEY=... in a bench_load/bench_ingest line
kv() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }
record() { printf '%s %s\n' "$1" "$2" >> "$RES"; }
rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/{print $2}' "/proc/$1/status"; }
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
elapsed() { echo $(( $(date +%s) - T_START )); }

# ---- koban daemon -----------------------------------------------------------
start_koban() { # DIR [SERVE ARGS...] -> KPID, KURL
    sync # no writeback of earlier steps during the measurement
    local dir=$1
    mkdir -p "$dir"
    "$KOBAN" serve --data-dir "$dir" --listen 127.0.0.1:0 --syslog-udp '' --syslog-tcp '' \
        --no-spool "${@:2}" >> "$dir.log" 2>&1 &
    KPID=$!
    for _ in $(seq 200); do
        if [ -s "$dir/serve.json" ] && grep -q "\"pid\":$KPID[,}]" "$dir/serve.json"; then
            KURL=$(sed -n 's/.*"http":"\([^"]*\)".*/\1/p' "$dir/serve.json")
            return 0
        fi
        kill -0 "$KPID" 2>/dev/null || break
        sleep 0.1
    done
    log "bench: koban serve did not start; its log:"; tail -20 "$dir.log" >&2
    KPID=""; return 1
}
stop_koban() {
    [ -n "$KPID" ] || return 0
    kill -TERM "$KPID" 2>/dev/null || true
    for _ in $(seq 600); do kill -0 "$KPID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$KPID" 2>/dev/null && { log "bench: koban did not stop in 60 s; killing"; kill -KILL "$KPID"; }
    wait "$KPID" 2>/dev/null || true
    KPID=""
}
metric() { curl -sf "http://$KURL/metrics" | awk -v m="$1" '$1==m{print $2; exit}'; }
# Waits (at most BENCH_APPLY_WAIT_S, default 240) until the store has applied
# everything durable; prints the seconds waited.
wait_applied() {
    local t0 lag end=$(( $(date +%s) + ${BENCH_APPLY_WAIT_S:-240} ))
    t0=$(date +%s.%N)
    while [ "$(date +%s)" -lt "$end" ]; do
        lag=$(curl -sf -m 5 "http://$KURL/metrics" | awk '$1=="koban_journal_lag_records"{print $2; exit}' || true)
        [ "${lag:-x}" = 0 ] && break
        sleep 0.1
    done
    awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}'
}

# ---- Alertmanager -----------------------------------------------------------
start_am() { # DIR -> AMPID, AMPORT
    local dir=$1
    mkdir -p "$dir/data"
    AMPORT=$(free_port)
    "$AMBIN" --config.file="$AMKIT/am_null.yml" --storage.path="$dir/data" \
        --web.listen-address="127.0.0.1:$AMPORT" --cluster.listen-address= --log.level=warn \
        > "$dir/am.log" 2>&1 &
    AMPID=$!
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$AMPORT/-/ready" >/dev/null 2>&1 && return 0
        kill -0 "$AMPID" 2>/dev/null || break
        sleep 0.1
    done
    log "bench: alertmanager did not start"; tail -5 "$dir/am.log" >&2; AMPID=""; return 1
}
stop_am() {
    [ -n "$AMPID" ] || return 0
    kill -TERM "$AMPID" 2>/dev/null || true
    wait "$AMPID" 2>/dev/null || true
    AMPID=""
}
# The kit's wrk script: BATCHES requests of BSIZE alerts, all distinct from IDBASE.
am_wrk() { # NAME BATCHES BSIZE IDBASE CONNS -> alerts/s on stdout
    local out=$TMP/wrk_$1.out
    wrk -t1 -c"$5" -d120s --timeout 30s -s "$AMKIT/post_alerts.lua" \
        "http://127.0.0.1:$AMPORT" -- "$2" "$3" 0 "$4" > "$out" 2>&1 || true
    local res; res=$(grep RESULT "$out" || true)
    [ -n "$res" ] || { log "bench: wrk gave no RESULT:"; tail -3 "$out" >&2; return 1; }
    local n e bad
    n=$(printf '%s' "$res" | sed 's/.*responses=\([0-9]*\).*/\1/')
    e=$(printf '%s' "$res" | sed 's/.*elapsed_s=\([0-9.]*\).*/\1/')
    bad=$(printf '%s' "$res" | sed 's/.*non200=\([0-9]*\).*/\1/')
    [ "$bad" = 0 ] || log "bench: alertmanager answered $bad non-200 responses"
    awk -v n="$n" -v b="$3" -v e="$e" 'BEGIN{printf "%.0f", n*b/e}'
}

# ---- payloads -----------------------------------------------------------------
TPL=$TMP/templates.ndjson
if [ -d "$DATA" ] && "$ING" templates --data "$DATA" --out "$TPL" > "$TMP/tpl.txt"; then
    log "bench: payload: real CloudTrail records from $DATA ($(cat "$TMP/tpl.txt"))"
else
    log "bench: payload: $DATA has no usable CloudTrail records; using bench_load's built-in record"
    "$LOAD" --print-template > "$TPL"
fi
PAYLOAD=(--payload "$TPL")
AMTPL=$TMP/am_template.ndjson
# The same alert as the kit's post_alerts.lua, for bench_load against Alertmanager.
printf '%s\n' '{"labels":{"alertname":"Bench{{ID}}","source":"bench","instance":"host-{{SEQ}}","severity":"high"},"annotations":{"summary":"bench alert {{SEQ}}"},"generatorURL":"http://127.0.0.1/x"}' > "$AMTPL"

NDJSON=$TMP/ingest.ndjson
log "bench: writing $INGEST_EVENTS events for the file benchmark"
"$ING" gen --templates "$TPL" --out "$NDJSON" --count "$INGEST_EVENTS" --distinct "$DISTINCT" > /dev/null
log "bench: $(du -h "$NDJSON" | cut -f1) in $NDJSON"

if [ -z "$AMBIN" ] || [ ! -f "$AMKIT/post_alerts.lua" ] || ! command -v wrk >/dev/null; then
    log "bench: SKIPPING Alertmanager (needs prometheus-alertmanager, wrk and the kit in $AMKIT);"
    log "       ratios will be missing. Install: apt-get install prometheus-alertmanager wrk"
    AMBIN=""
fi

# ---- runs ---------------------------------------------------------------------
for r in $(seq "$RUNS"); do
    if [ "$(elapsed)" -gt "$MAX_S" ]; then
        log "bench: time budget (${MAX_S}s) spent after $((r-1)) runs; not starting run $r"
        break
    fi
    log "bench: run $r/$RUNS ($(elapsed)s)"

    # 1. batches of 100 over keep-alive connections
    d=$TMP/k_batch_$r
    start_koban "$d"
    "$LOAD" --url "$KURL" "${PAYLOAD[@]}" --batch 100 --connections "$BATCH_CONNS" \
        --requests 20 --distinct "$DISTINCT" --id-base 900000000 > /dev/null  # warm-up: 2,000 events
    line=$("$LOAD" --url "$KURL" "${PAYLOAD[@]}" --batch 100 --connections "$BATCH_CONNS" \
        --requests "$BATCH_REQ" --duration-s "$DUR" --distinct "$DISTINCT" --server-pid "$KPID") || true
    log "  koban http_batch:  $line"
    record http_batch "$(kv "$line" events_per_s)"
    record http_batch_p50_ms "$(kv "$line" p50_ms)"
    record http_batch_p99_ms "$(kv "$line" p99_ms)"
    record http_batch_cpu_us "$(kv "$line" server_cpu_us_per_event)"
    record http_batch_errors "$(kv "$line" errors)"
    w=$(wait_applied); acc=$(kv "$line" accepted); el=$(kv "$line" elapsed_s)
    log "  store caught up ${w}s after the last ack"
    record http_batch_stored "$(awk -v a="$acc" -v e="$el" -v w="$w" 'BEGIN{printf "%.0f", a/(e+w)}')"
    stop_koban; rm -rf "$d"

    # 2. one event per request, many connections
    d=$TMP/k_single_$r
    start_koban "$d"
    "$LOAD" --url "$KURL" "${PAYLOAD[@]}" --batch 1 --connections "$SINGLE_CONNS" \
        --requests 2000 --distinct "$DISTINCT" --id-base 900000000 > /dev/null
    line=$("$LOAD" --url "$KURL" "${PAYLOAD[@]}" --batch 1 --connections "$SINGLE_CONNS" \
        --requests "$SINGLE_REQ" --duration-s "$DUR" --distinct "$DISTINCT" --server-pid "$KPID") || true
    log "  koban http_single: $line"
    record http_single "$(kv "$line" events_per_s)"
    record http_single_p50_ms "$(kv "$line" p50_ms)"
    record http_single_p99_ms "$(kv "$line" p99_ms)"
    record http_single_cpu_us "$(kv "$line" server_cpu_us_per_event)"
    record http_single_errors "$(kv "$line" errors)"
    stop_koban; rm -rf "$d"

    # 3. koban ingest FILE
    d=$TMP/k_ingest_$r
    # Dirty pages left by earlier steps (the generated input file, removed
    # data dirs) are written back during the next run and cost it about a
    # third of its throughput (measured): each run starts from a clean cache.
    sync
    line=$("$ING" run --koban "$KOBAN" --data-dir "$d" "$NDJSON") || true
    log "  koban ingest_file: $line"
    record ingest_file "$(kv "$line" events_per_s)"
    record ingest_file_self "$(kv "$line" koban_events_per_s)"
    record ingest_file_cpu_us "$(awk -v c="$(kv "$line" cpu_s)" -v n="$(kv "$line" accepted)" \
        'BEGIN{if (n > 0) printf "%.2f", 1e6*c/n}')"
    rm -rf "$d" "$d.log"

    # Alertmanager, same run: the kit's wrk script, then bench_load (same client as koban).
    if [ -n "$AMBIN" ]; then
        d=$TMP/am_$r
        start_am "$d"
        rss0=$(rss_kb "$AMPID")
        v=$(am_wrk batch_$r "$AM_BATCHES" 100 0 4) && record am_batch_wrk "$v"
        sleep 1
        rss1=$(rss_kb "$AMPID")
        n=$((AM_BATCHES * 100))
        record am_bytes_per_alert "$(( (rss1 - rss0) * 1024 / n ))"
        log "  alertmanager wrk batch: ${v:-?} alerts/s; RSS ${rss0} -> ${rss1} KiB at $n active"
        v=$(am_wrk single_$r "$AM_SINGLE" 1 10000000 4) && record am_single_wrk "$v"
        log "  alertmanager wrk single (4 conns): ${v:-?} alerts/s"
        line=$("$LOAD" --url "127.0.0.1:$AMPORT" --path /api/v2/alerts --payload "$AMTPL" \
            --batch 100 --connections "$BATCH_CONNS" --requests "$AM_BATCHES" --duration-s "$DUR" \
            --distinct 10 --id-base 0 --server-pid "$AMPID") || true
        log "  alertmanager bench_load batch: $line"
        record am_batch "$(kv "$line" events_per_s)"
        record am_batch_cpu_us "$(kv "$line" server_cpu_us_per_event)"
        line=$("$LOAD" --url "127.0.0.1:$AMPORT" --path /api/v2/alerts --payload "$AMTPL" \
            --batch 1 --format array --connections "$SINGLE_CONNS" --requests "$((AM_SINGLE * 3))" \
            --duration-s "$DUR" --distinct 10 --server-pid "$AMPID") || true
        log "  alertmanager bench_load single: $line"
        record am_single "$(kv "$line" events_per_s)"
        record am_single_cpu_us "$(kv "$line" server_cpu_us_per_event)"
        stop_am; rm -rf "$d"
    fi
done

# ---- 4. memory per open issue -------------------------------------------------
MEM_REQ=$(( (MEM_EVENTS + 99) / 100 ))
for r in $(seq "$MEM_RUNS"); do
    log "bench: memory run $r/$MEM_RUNS: $((MEM_REQ * 100)) events with distinct identities ($(elapsed)s)"
    d=$TMP/k_mem_$r
    start_koban "$d"
    sleep 1
    rss0=$(rss_kb "$KPID")
    line=$("$LOAD" --url "$KURL" "${PAYLOAD[@]}" --batch 100 --connections 4 --requests "$MEM_REQ" \
        --duration-s 300 --distinct 0 --id-base 0 --server-pid "$KPID") || true
    log "  load: $line"
    w=$(wait_applied)
    open=$(metric 'koban_issues{state="open"}' || true)
    sleep 1
    rss1=$(rss_kb "$KPID"); hwm1=$(hwm_kb "$KPID")
    dbb=$(du -sb "$d" | cut -f1)
    log "  store caught up after ${w}s; open issues: ${open:-?}; RSS ${rss0} -> ${rss1} KiB (peak ${hwm1}); data dir $((dbb / 1048576)) MiB"
    stop_koban
    start_koban "$d"   # the same store, a fresh process
    sleep 2
    rss2=$(rss_kb "$KPID")
    log "  restarted on the same store: RSS ${rss2} KiB (it also folds any lag left)"
    stop_koban; rm -rf "$d" "$d.log"
    n=${open:-0}; [ "$n" -gt 0 ] 2>/dev/null || n=$((MEM_REQ * 100))
    record mem_bytes_per_issue "$(( (rss1 - rss0) * 1024 / n ))"
    record mem_rss_per_issue "$(( rss1 * 1024 / n ))"
    record mem_restart_rss_per_issue "$(( rss2 * 1024 / n ))"
    record mem_disk_per_issue "$(( dbb / n ))"
    record mem_open_issues "$n"
done

# ---- bench_json (written separately; included when built) -----------------------
if [ -x "$BUILD/bench_json" ]; then
    log "bench: bench_json ($(elapsed)s)"
    # bench_json repeats its own measurement and prints medians on one line:
    # "bench_json key=number ..."; each key becomes a row "json:key".
    "$BUILD/bench_json" > "$TMP/json.txt" 2> "$TMP/json.err" || log "bench: bench_json failed"
    awk '$1 == "bench_json" { for (i = 2; i <= NF; i++)
             if (split($i, kv, "=") == 2 && kv[2] ~ /^[0-9.]+$/) print "json:" kv[1], kv[2] }' \
        "$TMP/json.txt" >> "$RES"
else
    log "bench: $BUILD/bench_json not built; skipped"
fi

# ---- bench_rules (Sigma matching; included when built) -------------------------
if [ -x "$BUILD/bench_rules" ]; then
    log "bench: bench_rules ($(elapsed)s)"
    "$BUILD/bench_rules" > "$TMP/rules.txt" 2> "$TMP/rules.err" || log "bench: bench_rules failed"
    awk '$1 == "bench_rules" { for (i = 2; i <= NF; i++)
             if (split($i, kv, "=") == 2 && kv[2] ~ /^[0-9.]+$/) print "rules:" kv[1], kv[2] }' \
        "$TMP/rules.txt" >> "$RES"
fi

# ---- 6. notifications (bench_notify; BENCH_NOTIFY=0 skips) ----------------------
# a. The same HTTP batch load on `koban serve` three times per run, in rotating
#    order: without notify.routes ("plain"); with a routing file whose one webhook
#    receiver is bench_notify's responder ("notify": routing, outbox writes and
#    delivery at once); and the same receiver with `rate: 1/h` ("held": routing
#    and outbox writes only, the worker sends one job and then waits). 1 line in
#    100 of the payload is a marker event (a new principal every time, eventName
#    KobanBenchNotify) that a policy raises to high with the label bench=notify,
#    which the route takes: 1% of events open an issue that notifies (flood
#    control and reminders off, so each one is a job). Every server loads the same
#    policy. Compared: events acknowledged and applied to the store per second
#    (routing and outbox writes happen when applying).
# b. bench_notify deliver: BENCH_NOTIFY_JOBS jobs, one webhook receiver at koban serve's
#    default concurrency for webhooks (2; notify/notify.c).
# c. bench_notify queue (the first BENCH_NOTIFY_QUEUE_RUNS runs): the receiver is
#    down while 1,000,000 jobs are queued; RSS sampled every 100,000.
# No new notify run starts after BENCH_NOTIFY_MAX_S seconds of this section.
NOTIFY=${BENCH_NOTIFY:-1}
NOTIFY_REQ=${BENCH_NOTIFY_REQUESTS:-10000}
NOTIFY_JOBS=${BENCH_NOTIFY_JOBS:-50000}
NOTIFY_QJOBS=${BENCH_NOTIFY_QUEUE_JOBS:-1000000}
NOTIFY_QRUNS=${BENCH_NOTIFY_QUEUE_RUNS:-1}
NOTIFY_MAX_S=${BENCH_NOTIFY_MAX_S:-360}
BN=$BUILD/bench_notify
NMIX=$TMP/notify_mix.ndjson
ND=$TMP/notify
if [ "$NOTIFY" = 0 ]; then
    log "bench: notifications skipped (BENCH_NOTIFY=0)"
elif [ ! -x "$BN" ]; then
    log "bench: $BN not built; notifications skipped"
elif ! "$BN" mix --templates "$TPL" --out "$NMIX" --every 100 > /dev/null; then
    log "bench: bench_notify mix failed; notifications skipped"
else
    log "bench: notifications ($(elapsed)s)"
    N0=$(date +%s)
    mkdir -p "$ND/policies"
    cat > "$ND/policies/bench-notify.yml" <<'YAML'
id: bench-notify-marker
title: The benchmark's marker events notify
source: cloudtrail
detection:
  marker:
    raw.eventName: KobanBenchNotify
  condition: marker
severity: high
labels:
  bench: notify
YAML
    "$BN" receiver --port-file "$ND/port" --max-s 3600 > "$ND/receiver.out" 2>&1 &
    RPID=$!
    for _ in $(seq 100); do [ -s "$ND/port" ] && break; sleep 0.1; done
    for held in "" "    rate: 1/h"; do
        cat > "$ND/routes${held:+_held}.yaml" <<YAML
receivers:
  - name: bench
    type: webhook
    url: http://127.0.0.1:$(cat "$ND/port")/hook
    token: bench-secret
$held
route:
  routes:
    - match: {labels: {bench: notify}}
      receiver: bench
flood: off
flood_rule: off
reminders: off
YAML
    done
    printf 'policies:\n  dir: "%s"\n' "$ND/policies" > "$ND/plain.yaml"
    printf 'policies:\n  dir: "%s"\nnotify:\n  routes: "%s"\n' "$ND/policies" \
        "$ND/routes.yaml" > "$ND/notify.yaml"
    printf 'policies:\n  dir: "%s"\nnotify:\n  routes: "%s"\n' "$ND/policies" \
        "$ND/routes_held.yaml" > "$ND/held.yaml"
    # DISTINCT rounded to a multiple of 100 so the marker share is exactly 1%.
    NDIST=$(( (DISTINCT + 99) / 100 * 100 ))
    for r in $(seq "$RUNS"); do
        if [ $(( $(date +%s) - N0 )) -gt "$NOTIFY_MAX_S" ]; then
            log "bench: notify budget (${NOTIFY_MAX_S}s) spent after $((r-1)) runs"
            break
        fi
        log "bench: notify run $r/$RUNS ($(elapsed)s)"
        case $((r % 3)) in
            1) modes="plain notify held" ;;
            2) modes="notify held plain" ;;
            *) modes="held plain notify" ;;
        esac
        rate_plain="" rate_notify="" rate_held=""
        for m in $modes; do
            d=$TMP/k_notify_${m}_$r
            start_koban "$d" --config "$ND/$m.yaml"
            "$LOAD" --url "$KURL" --payload "$NMIX" --batch 100 --connections "$BATCH_CONNS" \
                --requests 20 --distinct "$NDIST" --id-base 900000000 > /dev/null
            line=$("$LOAD" --url "$KURL" --payload "$NMIX" --batch 100 --connections "$BATCH_CONNS" \
                --requests "$NOTIFY_REQ" --duration-s "$DUR" --distinct "$NDIST" --server-pid "$KPID") || true
            sent=$(metric 'koban_notify_sent_total{receiver="bench"}' || true)
            w=$(wait_applied); acc=$(kv "$line" accepted); el=$(kv "$line" elapsed_s)
            jobs=$(metric koban_notify_jobs_total || true)
            log "  $m: $line; applied ${w}s after the last ack; jobs ${jobs:-0}, sent by then ${sent:-0}"
            rate=$(awk -v a="$acc" -v e="$el" -v w="$w" 'BEGIN{if (a > 0 && e+w > 0) printf "%.0f", a/(e+w)}')
            record "notify_ingest_$m" "$rate"
            case $m in plain) rate_plain=$rate ;; notify) rate_notify=$rate ;; *) rate_held=$rate ;; esac
            record notify_http_errors "$(kv "$line" errors)"
            if [ "$m" = notify ]; then
                record notify_jobs_pct "$(awk -v j="${jobs:-0}" -v a="$acc" 'BEGIN{if (a > 0) printf "%.3f", 100*j/a}')"
                record notify_sent_during_pct "$(awk -v s="${sent:-0}" -v j="${jobs:-0}" 'BEGIN{if (j > 0) printf "%.1f", 100*s/j}')"
            fi
            stop_koban; rm -rf "$d" "$d.log"
        done
        ratio_of() { awk -v p="$rate_plain" -v n="$1" 'BEGIN{if (p > 0 && n > 0) printf "%.3f", n/p}'; }
        record notify_ratio_notify "$(ratio_of "$rate_notify")"
        record notify_ratio_held "$(ratio_of "$rate_held")"
        line=$("$BN" deliver --jobs "$NOTIFY_JOBS" --receivers 1 --concurrency 2 --timeout-s 120) || true
        log "  deliver: $line"
        record notify_deliver "$(kv "$line" per_receiver_per_s)"
        if [ "$r" -le "$NOTIFY_QRUNS" ]; then
            out=$("$BN" queue --jobs "$NOTIFY_QJOBS" --sample-every $(( NOTIFY_QJOBS / 10 ))) || true
            log "  queue (receiver down): $(printf '%s' "$out" | tr '\n' ' ')"
            line=$(printf '%s\n' "$out" | tail -1)
            record notify_queue_growth_mib "$(awk -v k="$(kv "$line" growth_kb)" 'BEGIN{if (k != "") printf "%.1f", k/1024}')"
            record notify_queue_half_mib "$(awk -v k="$(kv "$line" half_growth_kb)" 'BEGIN{if (k != "") printf "%.1f", k/1024}')"
            record notify_queue_max_mib "$(awk -v k="$(kv "$line" rss_max_kb)" 'BEGIN{if (k != "") printf "%.1f", k/1024}')"
        fi
    done
    kill -TERM "$RPID" 2>/dev/null && wait "$RPID" 2>/dev/null || true
    RPID=""
    log "  responder: $(cat "$ND/receiver.out")"
fi

# ---- 7. vulnerability matching (bench_vuln; included when built) ----------------
# 200,000 synthetic OSV advisories against 1,000 assets x 2,000 packages, and
# 1,000 changed advisories re-evaluated across all assets (docs/VULN.md).
if [ -x "$BUILD/bench_vuln" ] && [ "${BENCH_VULN:-1}" != 0 ]; then
    log "bench: bench_vuln ($(elapsed)s)"
    vout=$("$BUILD/bench_vuln" 2>"$TMP/vuln.err") || log "bench: bench_vuln failed"
    log "  $(echo "$vout" | tr '\n' ' ')"
    vkv() { echo "$vout" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2; exit }'; }
    p=$(vkv parse_s); x=$(vkv index_s); m=$(vkv match_s)
    record vuln_total_s "$(awk -v p="$p" -v x="$x" -v m="$m" 'BEGIN{ if (m != "") printf "%.2f", p + x + m }')"
    record vuln_match_s "$m"
    record vuln_reeval_ms "$(vkv reeval_median_ms)"
    record vuln_peak_mb "$(echo "$vout" | tr ' ' '\n' | awk -F= '$1 == "peak" { print $2; exit }')"
fi
# The engine's whole path (bench_vuln_engine): the same advisories stored in
# SQLite, 1,000 CycloneDX SBOMs of 2,000 packages stored and evaluated, and
# 200 changed advisories each stored and re-evaluated on every asset, the
# findings diffed in the store and an alert told per change.
if [ -x "$BUILD/bench_vuln_engine" ] && [ "${BENCH_VULN:-1}" != 0 ]; then
    log "bench: bench_vuln_engine ($(elapsed)s)"
    eout=$(TMPDIR="$TMP" "$BUILD/bench_vuln_engine" 2>"$TMP/vuln_engine.err") || log "bench: bench_vuln_engine failed"
    log "  $eout"
    ekv() { echo "$eout" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2; exit }'; }
    record vuln_engine_store_s "$(ekv store_s)"
    record vuln_engine_open_s "$(ekv open_s)"
    record vuln_engine_inventories_s "$(ekv inventories_s)"
    record vuln_engine_asset_index_s "$(ekv asset_index_s)"
    record vuln_engine_reeval_ms "$(ekv reeval_median_ms)"
    record vuln_engine_reeval_p99_ms "$(ekv reeval_p99_ms)"
    record vuln_engine_findings "$(ekv findings)"
    record vuln_engine_db_mb "$(ekv db_mb)"
    record vuln_engine_peak_mb "$(ekv rss_peak_mb)"
fi

# ---- summary ------------------------------------------------------------------
stats() { # KEY -> "median min max n" (empty when no value)
    awk -v k="$1" '$1==k && $2 != "" {print $2}' "$RES" | sort -g | awk '
        {v[NR]=$1} END { if (NR == 0) exit
          m = NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2
          printf "%s %s %s %d", m, v[1], v[NR], NR }'
}
med() { stats "$1" | cut -d' ' -f1; }
fmt() { awk -v x="$1" 'BEGIN{ if (x == "") print "-"; else if (x+0 >= 1000) printf "%\047d", x; else printf "%.4g", x }'; }
ratio() { # A B -> A/B
    awk -v a="$1" -v b="$2" 'BEGIN{ if (a == "" || b == "" || b+0 == 0) print "-"; else printf "%.2fx", a/b }'
}
row() { # LABEL KEY UNIT RATIO TARGET OP(ge|le|-) TGT
    local s m mi ma n met="-"
    s=$(stats "$2")
    if [ -z "$s" ]; then m=""; mi=""; ma=""; n=0; else read -r m mi ma n <<< "$s"; fi
    if [ -n "$m" ] && [ "$6" != "-" ]; then
        met=$(awk -v m="$m" -v t="$7" -v op="$6" 'BEGIN{ ok = op == "ge" ? m >= t : m <= t; print ok ? "met" : "NOT met" }')
    fi
    printf '%-34s %12s %12s %12s %3s  %-8s %-9s %12s %s\n' "$1" "$(fmt "$m")" "$(fmt "$mi")" \
        "$(fmt "$ma")" "$n" "$3" "$4" "$5" "$met"
}
echo
echo "koban benchmarks — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, runs=$RUNS, $(elapsed)s"
printf '%-34s %12s %12s %12s %3s  %-8s %-9s %12s %s\n' benchmark median min max n unit "vs AM" target ""
row "1. HTTP, batch 100, ${BATCH_CONNS} conns" http_batch ev/s "$(ratio "$(med http_batch)" "$(med am_batch)")" ">= 270,000" ge 270000
row "   ... acked and applied to store" http_batch_stored ev/s "$(ratio "$(med http_batch_stored)" "$(med am_batch)")" "" - 0
row "   p50 latency" http_batch_p50_ms ms "" "" - 0
row "   p99 latency" http_batch_p99_ms ms "" "" - 0
row "   server CPU per event" http_batch_cpu_us us "$(ratio "$(med http_batch_cpu_us)" "$(med am_batch_cpu_us)")" "" - 0
row "2. HTTP, 1 event/req, ${SINGLE_CONNS} conns" http_single ev/s "$(ratio "$(med http_single)" "$(med am_single)")" ">= 60,000" ge 60000
row "   p50 latency" http_single_p50_ms ms "" "" - 0
row "   p99 latency" http_single_p99_ms ms "" "" - 0
row "   server CPU per event" http_single_cpu_us us "$(ratio "$(med http_single_cpu_us)" "$(med am_single_cpu_us)")" "" - 0
row "3. koban ingest FILE (whole process)" ingest_file ev/s "" ">= 500,000" ge 500000
row "   as koban reports it" ingest_file_self ev/s "" "" - 0
row "   CPU per event" ingest_file_cpu_us us "" "" - 0
row "4. RSS growth per open issue" mem_bytes_per_issue bytes "$(ratio "$(med mem_bytes_per_issue)" "$(med am_bytes_per_alert)")" "<= 256" le 256
row "   total RSS / open issues" mem_rss_per_issue bytes "" "" - 0
row "   RSS after restart / open issues" mem_restart_rss_per_issue bytes "" "" - 0
row "   disk (data dir) per issue" mem_disk_per_issue bytes "" "" - 0
row "   open issues counted" mem_open_issues issues "" "" - 0
if [ -n "$AMBIN" ]; then
    row "AM: batch 100, bench_load" am_batch al/s "" "" - 0
    row "AM: batch 100, kit wrk script" am_batch_wrk al/s "" "" - 0
    row "AM: 1 alert/req, bench_load" am_single al/s "" "" - 0
    row "AM: 1 alert/req, kit wrk (4 conns)" am_single_wrk al/s "" "" - 0
    row "AM: CPU per alert, batch 100" am_batch_cpu_us us "" "" - 0
    row "AM: CPU per alert, 1 alert/req" am_single_cpu_us us "" "" - 0
    row "AM: RSS growth per active alert" am_bytes_per_alert bytes "" "" - 0
fi
row "5. Sigma, 57 AWS rules, indexed" rules:aws_indexed_eps ev/s "" ">= 1,000,000" ge 1000000
row "   naive loop" rules:aws_naive_eps ev/s "" "" - 0
row "   end to end (json_parse + match)" rules:aws_e2e_eps ev/s "" "" - 0
row "   all rules, % of the 57-rule rate" rules:all_vs_aws_pct % "" ">= 25" ge 25
row "   load of all rules" rules:all_load_ms ms "" "<= 2000" le 2000
row "6. notify: ingest, 1% notifying/none" notify_ratio_held x "" ">= 0.90" ge 0.90
row "   ... and delivering meanwhile" notify_ratio_notify x "" "" - 0
row "   without notify.routes (applied)" notify_ingest_plain ev/s "" "" - 0
row "   1% notifying, delivery held" notify_ingest_held ev/s "" "" - 0
row "   1% notifying, delivering" notify_ingest_notify ev/s "" "" - 0
row "   jobs written, % of events" notify_jobs_pct % "" "" - 0
row "   jobs sent by the end of the load" notify_sent_during_pct % "" "" - 0
row "   notify: delivery per receiver" notify_deliver jobs/s "" ">= 5,000" ge 5000
row "   notify: RSS growth, 1M queued" notify_queue_growth_mib MiB "" "<= 16" le 16
row "   ... over the second half" notify_queue_half_mib MiB "" "" - 0
row "   ... peak RSS" notify_queue_max_mib MiB "" "" - 0
row "7. vuln: 200k advisories x 2M pkgs" vuln_total_s s "" "< 10" le 10
row "   matching alone" vuln_match_s s "" "" - 0
row "   one changed advisory, re-evaluated" vuln_reeval_ms ms "" "< 10" le 10
row "   peak RSS" vuln_peak_mb MB "" "" - 0
row "   engine: store 200k advisories" vuln_engine_store_s s "" "" - 0
row "   engine: open (load from store)" vuln_engine_open_s s "" "" - 0
row "   engine: 1,000 SBOMs x 2,000 pkgs" vuln_engine_inventories_s s "" "" - 0
row "   engine: asset index from store" vuln_engine_asset_index_s s "" "" - 0
row "   engine: one changed advisory" vuln_engine_reeval_ms ms "" "< 10" le 10
row "   engine: ... p99" vuln_engine_reeval_p99_ms ms "" "" - 0
row "   engine: findings" vuln_engine_findings "" "" "" - 0
row "   engine: database" vuln_engine_db_mb MB "" "" - 0
row "   engine: peak RSS" vuln_engine_peak_mb MB "" "" - 0
for k in $(awk '$1 ~ /^json:/ {print $1}' "$RES" | sort -u); do
    row "${k#json:}" "$k" "" "" "" - 0
done
errs=$(awk '$1 ~ /_errors$/ {s += $2} END {print s+0}' "$RES")
echo "HTTP errors (non-200, short accepts, timeouts) across all runs: $errs"
echo "vs AM: koban / Alertmanager (same client, same run); for memory, koban bytes / AM bytes."
