#!/usr/bin/env bash
# CTest's reduced form of the connection-scale measurement: a fresh ttfsd on
# loopback holds HOLD quiet connections while offline round trips and online
# relays run, every byte checked; passes when every transfer finished, no
# held connection was dropped, each cost the server under 8 KiB of memory,
# and the server then stops cleanly.
#
#   scale_check.sh TTFSD TTFS_LOAD [HOLD]
set -euo pipefail
ttfsd="$1"
load="$2"
hold="${3:-1000}"

work="$(mktemp -d /tmp/ttfs-scale-check.XXXXXX)"
trap 'kill "${pid:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

# The held senders wait for receivers that never come: TaskTimeout must
# outlast the run, or the server would rightly end their tasks.
"$ttfsd" --listen-ip 127.0.0.1 --client-port 0 --msg-port 0 --data-dir "$work/data" \
  --io-threads 2 --workers 2 --task-timeout 600 --shutdown-grace 0 --log-level warn \
  > "$work/ttfsd.out" 2>&1 &
pid=$!
for _ in $(seq 100); do
  grep -q '^ttfsd listening' "$work/ttfsd.out" && break
  sleep 0.1
done
read -r client_port msg_port < <(sed -n 's/^ttfsd listening: client port \([0-9]*\), msg-server port \([0-9]*\)$/\1 \2/p' "$work/ttfsd.out")

"$load" scale --hold "$hold" --concurrency 20 --transfers 100 --file-size 262144 --threads 1 \
  --server 127.0.0.1 --client-port "$client_port" --msg-port "$msg_port" --server-pid "$pid" \
  --duration-limit 60 | tee "$work/load.out"

# A quiet connection costs about 1 KiB of the server's memory; one that was
# given a 64 KiB input block for each heartbeat cost over 20 KiB. 8 KiB
# leaves room for the allocator's noise at this small a count.
per_connection=$(sed -n 's/.* rss_per_connection_bytes=\([0-9]*\).*/\1/p' "$work/load.out")
if [ -z "$per_connection" ] || [ "$per_connection" -gt 8192 ]; then
  echo "server RSS per held connection: ${per_connection:-unknown} bytes, over 8192"
  exit 1
fi

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
if [ "$status" -ne 0 ]; then
  echo "ttfsd exited $status after the run"
  cat "$work/ttfsd.out"
  exit 1
fi
