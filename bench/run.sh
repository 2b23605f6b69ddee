#!/usr/bin/env bash
# Runs the standard benchmark set and writes bench/RESULTS.md: the end-to-end
# figures of ttfs-load against a freshly started ttfsd, then the
# micro-benchmarks. Everything runs on loopback.
#
#   bench/run.sh [--compare NAME:CLIENT_PORT:MSG_PORT:PID] [--repeats N]
#
# Each end-to-end run is made N times (3 by default) against the default
# ttfsd and the compared server, one after the other each time, and the
# table shows the median: single runs of a second or two on this shared
# virtual machine vary by up to half. ttfsd with DirectIo=false runs once.
# The stores stay until the end: each repetition of the set uploads 7.4 GiB
# to each server it measures, so ttfsd's stores take about 30 GiB.
#
# --compare adds the same end-to-end runs against another server that is
# already running on 127.0.0.1 (TeamTalk's original file_server, say), so both
# are measured by the same harness in the same run.
#
# Start it six minutes or more after the last large deletion on this file
# system (an earlier run.sh's stores included): on ext4 without a journal,
# new files are slow to create until then (see the note on stores below).
set -euo pipefail
cd "$(dirname "$0")/.."

compare=""
repeats=3
while [ $# -gt 0 ]; do
  case "$1" in
    --compare) compare="${2:?--compare NAME:CLIENT_PORT:MSG_PORT:PID}"; shift 2 ;;
    --repeats) repeats="${2:?--repeats N}"; shift 2 ;;
    *) echo "usage: bench/run.sh [--compare NAME:CLIENT_PORT:MSG_PORT:PID] [--repeats N]" >&2; exit 2 ;;
  esac
done

build="build-bench"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DTTFS_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target ttfsd ttfs-load ttfs-floor ttfs_micro_bench >/dev/null

load="$build/bench/load/ttfs-load"
work="$(mktemp -d /tmp/ttfs-bench.XXXXXX)"
results="$work/results.tsv"
trap 'kill "${ttfsd_pid:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

# name | ttfs-load arguments
runs=(
  "upload, 1 x 1 MiB|upload --concurrency 1 --transfers 20 --file-size 1048576"
  "upload, 100 x 1 MiB|upload --concurrency 100 --transfers 300 --file-size 1048576"
  "upload, 1000 x 1 MiB|upload --concurrency 1000 --file-size 1048576"
  "upload, 5000 x 1 MiB|upload --concurrency 5000 --file-size 1048576 --connect-rate 2000"
  "upload, 1 x 256 MiB|upload --concurrency 1 --file-size 268435456"
  "online relay, 100 pairs x 1 MiB|online --concurrency 100 --transfers 300 --file-size 1048576"
  "online relay, 1000 pairs x 1 MiB|online --concurrency 1000 --file-size 1048576"
  "download, 1000 x 1 MiB|download --concurrency 1000 --file-size 1048576"
)

# One run of ttfs-load; appends "server<TAB>name<TAB>RESULT line".
measure() {
  local server="$1" name="$2" client_port="$3" msg_port="$4" pid="$5" args="$6"
  local line
  # shellcheck disable=SC2086  # args is a list of options
  line=$("$load" $args --threads 1 --server 127.0.0.1 --client-port "$client_port" \
           --msg-port "$msg_port" --server-pid "$pid" --duration-limit 300 | grep '^RESULT ' || true)
  printf '%s\t%s\t%s\n' "$server" "$name" "${line:-RESULT failed=run}" >> "$results"
  echo "$server | $name | ${line:-no result}"
}

# Each run gets a store of its own, and all are removed only at the end. On
# an ext4 without a journal (this machine's), the inode allocator skips every
# free inode deleted less than 60 s ago, or 360 s while the inode table block
# holding it is unwritten (and creating files beside it dirties that block
# again), looking each one up as it goes. A run begun soon after another's
# clean-up spends much of its time creating files: a 1000-upload run here
# took 65.6 µs a segment begun seconds after 16,000 files were deleted (and
# 22,000 in the minutes before), 38.5 and 29.5 in the two runs after it,
# 26-29 once 4 minutes had passed, and in a
# profile taken 1.5 minutes after a deletion, 29 % of ttfsd's CPU was in
# recently_deleted(). `sync` first, so that no run competes with the
# writeback of the last.
run_number=0
# The harness is thousands of clients behind a handful of loopback addresses,
# which MaxConnectionsPerIp (meant for the open network) would refuse, and
# the scale run holds a thousand msg-server connections where one msg_server
# keeps a few.
printf 'MaxConnectionsPerIp=0\nMaxMsgServerConnections=2000\n' > "$work/bench.conf"
start_ttfsd() {
  run_number=$((run_number + 1))
  sync
  # shellcheck disable=SC2086  # extra ttfsd flags, a list
  "$build/src/ttfsd" --config "$work/bench.conf" --listen-ip 127.0.0.1 --client-port 0 \
    --msg-port 0 --data-dir "$work/data.$run_number" --log-level warn $1 \
    > "$work/ttfsd.out" 2>&1 &
  ttfsd_pid=$!
  for _ in $(seq 100); do
    grep -q '^ttfsd listening' "$work/ttfsd.out" && break
    sleep 0.1
  done
  read -r client_port msg_port < <(sed -n 's/^ttfsd listening: client port \([0-9]*\), msg-server port \([0-9]*\)$/\1 \2/p' "$work/ttfsd.out")
}

for run in "${runs[@]}"; do
  name="${run%%|*}"
  args="${run#*|}"
  for repetition in $(seq "$repeats"); do
    # A fresh server and store for each run, so no run pays for another's
    # files; as configured by default (the O_DIRECT store), and in the first
    # repetition through the page cache too: all three of that would fill
    # 30 GB more of a disk whose stores may only be deleted at the end.
    variants=("ttfsd|")
    [ "$repetition" != 1 ] || variants+=("ttfsd DirectIo=false|--direct-io false")
    for variant in "${variants[@]}"; do
      start_ttfsd "${variant#*|}"
      measure "${variant%%|*}" "$name" "$client_port" "$msg_port" "$ttfsd_pid" "$args"
      kill -TERM "$ttfsd_pid"; wait "$ttfsd_pid" || true
    done
    if [ -n "$compare" ]; then
      IFS=: read -r cname cport mport cpid <<< "$compare"
      sync
      measure "$cname" "$name" "$cport" "$mport" "$cpid" "$args"
    fi
  done
done

# The floors: bare loops doing only the kernel's part of each path, three
# times, each in a directory of its own whose files stay until the end, so
# that no run creates its 1024 files among the inodes of the last (see the
# note on stores above).
floor_args="--segments 32768 --keep-files"
floor_results="$work/floor.txt"
for floor_run in 1 2 3; do
  sync
  mkdir "$work/floor.$floor_run"
  # shellcheck disable=SC2086  # a list of options
  "$build/bench/floor/ttfs-floor" $floor_args --dir "$work/floor.$floor_run" | sed "s/^FLOOR /FLOOR run=$floor_run /" \
    >> "$floor_results" || echo "FLOOR run=$floor_run failed" >> "$floor_results"
done

# Connection scale: a fresh ttfsd holds 10,000 quiet connections while round
# trips and relays run, three times (the machine is shared: the spread shows
# its noise). The held senders wait for receivers that never come, so
# TaskTimeout must outlast the run; 10,000 descriptors need the hard limit.
scale_args="--hold 10000 --concurrency 50 --transfers 500 --file-size 1048576 --threads 1"
scale_results="$work/scale.txt"
ulimit -n "$(ulimit -Hn)"
for _ in 1 2 3; do
  start_ttfsd "--task-timeout 600 --shutdown-grace 0"
  # shellcheck disable=SC2086  # a list of options
  "$load" scale $scale_args --server 127.0.0.1 --client-port "$client_port" \
    --msg-port "$msg_port" --server-pid "$ttfsd_pid" --duration-limit 300 \
    | grep '^RESULT ' >> "$scale_results" || echo "RESULT mode=scale failed=run" >> "$scale_results"
  kill -TERM "$ttfsd_pid"; wait "$ttfsd_pid" || true
done

# Five repetitions, aggregates only: the benchmark binary's own defaults.
"$build/bench/micro/ttfs_micro_bench" > "$work/micro.txt" 2>&1 || true

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< "$2"; }

# One table row per server and run: the repetition of median segments/s,
# then every repetition's segments/s and CPU, and the transfers of all.
end_to_end_rows() {
  local -a keys=() lines
  local -A lines_of=()
  local server name line key
  while IFS=$'\t' read -r server name line; do
    key="$server|$name"
    [ -n "${lines_of[$key]+set}" ] || keys+=("$key")
    lines_of[$key]+="$line"$'\n'
  done < "$results"
  for key in "${keys[@]}"; do
    mapfile -t lines < <(printf '%s' "${lines_of[$key]}")
    local ok=0 failed=0 rates="" cpus="" rate cpu median rss
    for line in "${lines[@]}"; do
      ok=$((ok + $(field ok "$line" | grep -x '[0-9]*' || echo 0)))
      # "failed=run": ttfs-load printed no result at all; count it as one.
      failed=$((failed + $(field failed "$line" | grep -x '[0-9][0-9]*' || echo 1)))
      rate=$(field segments_per_s "$line")
      cpu=$(field server_cpu_us_per_segment "$line")
      rates+="${rates:+ / }${rate:-none}"
      cpus+="${cpus:+ / }${cpu:-none}"
    done
    median=$(for line in "${lines[@]}"; do
               printf '%s\t%s\n' "$(field segments_per_s "$line" | grep -x '[0-9]*' || echo 0)" "$line"
             done | sort -n -k1,1 | sed -n "$(( (${#lines[@]} + 1) / 2 ))p" | cut -f2-)
    rss=$(field server_peak_rss_kb "$median")
    echo "| ${key%%|*} | ${key#*|} | $ok/$failed | $(field segments_per_s "$median") | $(field mb_per_s "$median") | $(field p50_ms "$median") | $(field p99_ms "$median") | $(field server_cpu_us_per_segment "$median") | $(( ${rss:-0} / 1024 )) | $rates | $cpus |"
  done
}
{
  echo "# Benchmark results"
  echo
  echo "Written by \`bench/run.sh${compare:+ --compare $compare}\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo "Machine: $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(free -g | awk '/^Mem:/ {print $2}') GiB,"
  echo "$(uname -sr); the harness runs on the same machine as the server."
  echo "Commit: $(git rev-parse --short HEAD)$(git diff --quiet -- . ':!bench/RESULTS.md' || echo ' (with uncommitted changes)')."
  echo
  echo "## End to end (ttfs-load, one client thread, window 8)"
  echo
  echo "Each run was made $repeats times against \`ttfsd\`${compare:+ and the compared server},"
  echo "once against \`ttfsd DirectIo=false\`. A row shows the repetition of median"
  echo "segments/s, then the segments/s and server CPU of each, in the order they ran,"
  echo "and the transfers of all of them."
  echo
  echo "| server | run | ok/failed | segments/s | MB/s | p50 ms | p99 ms | server CPU µs/segment | server peak RSS MiB | segments/s, each run | server CPU µs/segment, each run |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  end_to_end_rows
  echo
  echo "Each run starts a fresh ttfsd with an empty store of its own, after a \`sync\`:"
  echo "\`ttfsd\` is the default configuration, whose store writes and reads page-aligned"
  echo "segments with O_DIRECT; \`ttfsd DirectIo=false\` is the same server started with"
  echo "\`--direct-io false\`, whose store goes through the page cache as the original's"
  echo "does. Server CPU is that of the server process alone (/proc/PID/stat): the"
  echo "kernel's writeback of the page cache runs in kworker threads and is not in it. A"
  echo "download run first uploads its files, untimed, to the server under test, so"
  echo "\`ttfsd\` downloads read the disk and \`ttfsd DirectIo=false\` downloads read the"
  echo "page cache the upload left behind."
  echo
  if [ -n "$compare" ]; then
    echo "The compared server was started once, before all runs: unlike each fresh ttfsd,"
    echo "it keeps its memory, already faulted in, and its store from run to run."
    echo
  fi
  echo "This machine is a virtual machine whose balloon driver reports free pages to the"
  echo "host (\`/sys/module/page_reporting\`): a page the guest frees is given back, and its"
  echo "next first use faults in the host. Growing the page cache is slow for that reason"
  echo "(3 GB written with dd into the page cache took 6.7 s of system time, and 0.5 s when"
  echo "repeated at once), and the runs that grow it vary by up to ±40 % from run to run."
  echo
  echo "Its file system is ext4 without a journal, whose inode allocator skips, with a"
  echo "buffer lookup each, every free inode deleted less than 60 s before (360 s while its"
  echo "inode table block is unwritten). Every upload creates two files, so a run begun"
  echo "soon after many deletions spends much of its time creating them: here, 1000"
  echo "uploads took 65.6 µs a segment in a run begun seconds after 16,000 files were"
  echo "deleted, and 26-29 µs four minutes later. No run here deletes files; run.sh is to"
  echo "be started six minutes or more after the last large deletion on the file system."
  echo
  echo "The exact commands:"
  echo
  echo '```'
  for run in "${runs[@]}"; do echo "ttfs-load ${run#*|} --threads 1 --server-pid PID"; done
  echo '```'
  echo
  echo "The RESULT lines as printed, each after the server it measured:"
  echo
  echo '```'
  awk -F"\t" '{print $1 ": " $3}' "$results"
  echo '```'
  echo
  echo "## Floors (ttfs-floor, bare loops, 3 runs)"
  echo
  echo "What the kernel alone costs a server per 32 KiB segment on this machine: each"
  echo "path done by a bare blocking loop on one thread, one connection (two for a"
  echo "relay), a pull window of 8, no protocol, no checksums; the clients are other"
  echo "threads of the same process, and only the server thread's CPU is counted. See"
  echo "bench/floor/floors.h for what each loop does."
  echo
  echo "| path | server CPU µs/segment, runs 1 / 2 / 3 | client CPU µs/segment, runs 1 / 2 / 3 | MB/s, runs 1 / 2 / 3 |"
  echo "|---|---|---|---|"
  for path in $(sed -n 's/.* path=\([^ ]*\).*/\1/p' "$floor_results" | awk '!seen[$0]++'); do
    server_cpu="" client_cpu="" rate=""
    while read -r line; do
      server_cpu+="${server_cpu:+ / }$(field server_cpu_us_per_segment "$line")"
      client_cpu+="${client_cpu:+ / }$(field peer_cpu_us_per_segment "$line")"
      rate+="${rate:+ / }$(field mb_per_s "$line")"
    done < <(grep " path=$path " "$floor_results")
    echo "| $path | $server_cpu | $client_cpu | $rate |"
  done
  echo
  echo "The command, three times, each with a new DIR:"
  echo
  echo '```'
  echo "ttfs-floor $floor_args --dir DIR"
  echo '```'
  echo
  echo '```'
  cat "$floor_results"
  echo '```'
  echo
  echo "## Connection scale (ttfs-load scale, 10,000 connections held, 3 runs)"
  echo
  echo "| run | RSS idle MiB | RSS holding MiB | bytes per connection | transfers ok/failed | MB/s | server CPU s (hold / transfers) | held lost |"
  echo "|---|---|---|---|---|---|---|---|"
  run=0
  while read -r line; do
    run=$((run + 1))
    echo "| $run | $(( $(field rss_idle_kb "$line") / 1024 )) | $(( $(field rss_held_kb "$line") / 1024 )) | $(field rss_per_connection_bytes "$line") | $(field ok "$line")/$(field failed "$line") | $(field mb_per_s "$line") | $(field server_cpu_hold_s "$line") / $(field server_cpu_transfer_s "$line") | $(field held_lost "$line") |"
  done < "$scale_results"
  echo
  echo "See bench/load/README.md for what is held and measured. The command:"
  echo
  echo '```'
  echo "ttfsd --config bench.conf --task-timeout 600 --shutdown-grace 0 ...   # bench.conf: MaxConnectionsPerIp=0, MaxMsgServerConnections=2000; ulimit -n $(ulimit -Hn)"
  echo "ttfs-load scale $scale_args --server-pid PID"
  echo '```'
  echo
  echo '```'
  cat "$scale_results"
  echo '```'
  echo
  echo "## Micro-benchmarks (ttfs_micro_bench, median and spread of 5 repetitions)"
  echo
  echo '```'
  grep -E '^(Benchmark|-----|[A-Za-z].*_(median|cv) )' "$work/micro.txt" || cat "$work/micro.txt"
  echo '```'
} > bench/RESULTS.md
echo "wrote bench/RESULTS.md"
