#!/bin/sh
# make demo: start koban on the embedded SQLite store in ./var, replay the
# samples in examples/ through HTTP, the spool directory and syslog (and the
# real samples in ../shared/data when present), then show what came out.
set -eu
KOBAN=${1:-build/koban}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
data=./var
mkdir -p "$data"
if [ -f "$data/serve.json" ] && kill -0 "$(sed 's/.*"pid":\([0-9]*\).*/\1/' "$data/serve.json")" 2>/dev/null; then
  echo "koban is already running on $data (pid $(sed 's/.*"pid":\([0-9]*\).*/\1/' "$data/serve.json")); stop it first."
  exit 1
fi
rm -f "$data/serve.json"
# The example Sigma rules (examples/rules) and the stock triage policies
# decide what the samples mean; the rules first prove themselves.
echo "rule tests: $("$KOBAN" test examples/rules 2>&1 | tail -1)"
"$KOBAN" serve --data-dir "$data" --listen 127.0.0.1:8478 --syslog-udp 127.0.0.1:0 \
  --syslog-tcp 127.0.0.1:0 --rules examples/rules >"$data/serve.log" 2>&1 &
pid=$!
i=0
while [ ! -f "$data/serve.json" ]; do
  i=$((i + 1))
  if [ $i -gt 100 ] || ! kill -0 $pid 2>/dev/null; then
    echo "koban serve did not start:"; cat "$data/serve.log"; exit 1
  fi
  sleep 0.1
done
info=$(cat "$data/serve.json")
http=$(echo "$info" | sed 's/.*"http":"\([^"]*\)".*/\1/')
tcp=$(echo "$info" | sed 's/.*"syslog_tcp":\([0-9]*\).*/\1/')
spool=$(echo "$info" | sed 's/.*"spool":"\([^"]*\)".*/\1/')
echo "koban is serving on http://$http (pid $pid, data in $data)"

post() { # post FILE [SOURCE]
  q=""; [ -n "${2:-}" ] && q="?source=$2"
  r=$(curl -s -X POST --data-binary @"$1" "http://$http/v1/events$q")
  printf '  %-52s %s\n' "$1" "$r"
}
echo "HTTP  POST /v1/events:"
for f in examples/guardduty/* examples/scc/* examples/gcp_audit/* examples/falco/* \
         examples/alertmanager/*; do
  [ -f "$f" ] && post "$f"
done
echo "spool $spool:"
for f in examples/cloudtrail/* examples/wazuh/*; do
  [ -f "$f" ] || continue
  name=$(basename "$(dirname "$f")")-$(basename "$f")
  cp "$f" "$spool/.$name" && mv "$spool/.$name" "$spool/$name"
  echo "  dropped $f as $name"
done
echo "syslog TCP 127.0.0.1:$tcp:"
for f in examples/syslog/*; do
  [ -f "$f" ] || continue
  python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); s.sendall(open(sys.argv[2],"rb").read()); s.close()' "$tcp" "$f"
  echo "  sent $(wc -l < "$f") lines of $f"
done
shared=../shared/data
if [ -d "$shared" ]; then
  echo "real samples from $shared:"
  for f in "$shared"/guardduty/*.jsonl "$shared"/scc/*.json "$shared"/cloudtrail/stratus/*.json; do
    [ -f "$f" ] || continue
    curl -s -o /dev/null -X POST --data-binary @"$f" "http://$http/v1/events"
  done
  curl -s -o /dev/null -X POST --data-binary @"$shared/syslog/loghub/OpenSSH_2k.log" \
    "http://$http/v1/events?source=syslog"
  echo "  posted GuardDuty, SCC, CloudTrail (stratus) and 2,000 sshd lines"
fi
# wait for the spool and the pipeline to finish
i=0
while :; do
  i=$((i + 1))
  left=$(ls "$spool" | grep -v -e '^done$' -e '^failed$' | wc -l)
  lag=$(curl -s "http://$http/metrics" | sed -n 's/^koban_journal_lag_records \([0-9]*\)/\1/p')
  [ "$left" -eq 0 ] && [ "${lag:-1}" -eq 0 ] && break
  [ $i -gt 100 ] && break
  sleep 0.2
done
echo
"$KOBAN" issues --data-dir "$data" --limit 25
echo
curl -s "http://$http/metrics" | grep -E '^koban_(issues|events_accepted_total|events_rejected|journal_syncs|quarantine|rules_loaded|rule_matches|policies_loaded)' | grep -v ' 0$' || true
cat <<MSG

Where to look:
  $KOBAN issues                       open issues (add --json, --severity high, --text ...)
  $KOBAN issues show ID               one issue with its history, rules and policies
  $KOBAN issues --severity high       what the rules and policies raised
  $KOBAN test examples/rules          the rules' own tests (run them in CI)
  $KOBAN issues ack ID | close ID     work them
  $KOBAN quarantine                   events koban rejected, and why
  curl http://$http/v1/issues      the same over HTTP
  curl http://$http/metrics        Prometheus metrics
  ls $spool/done $spool/failed       the spool's finished files

koban is still running (pid $pid, log in $data/serve.log). Stop it with: kill $pid
MSG
