#!/usr/bin/env bash
# `make run`: the tracker behind a real nginx on 127.0.0.1:$PORT, in the foreground.
# Ctrl-C (or SIGTERM) stops shoal and nginx. PORT, WORKERS, DATABASE, CONTROL_DATABASE and
# ACCESS (open, whitelist, blacklist) override the defaults.
set -euo pipefail
port=${PORT:-6969}
workers=${WORKERS:-2}
database=${DATABASE:-/dev/shm/shoal.db}
access=${ACCESS:-open}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "$root" && swift build -c release --show-bin-path)/shoal
rundir=${RUNDIR:-/tmp/shoal-run-$port}
socket=$rundir/shoal.sock
# On disk, kept between runs: the torrent list, client rules and completed counts.
control=${CONTROL_DATABASE:-$root/.run/control.db}
mkdir -p "$(dirname "$control")"

if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "make run: 127.0.0.1:$port is already in use; stop what listens there or use PORT=..." >&2
    exit 1
fi
"$root/scripts/nginx-config.sh" "$rundir" "$port" "unix:$socket" stderr

pids=()
stop() {
    trap - INT TERM EXIT
    [ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
    echo "stopped" >&2
}
trap stop INT TERM EXIT

# nginx's workers (www-data when started as root, else this user) connect through the socket's group.
group=$(id -gn)
if [ "$(id -u)" -eq 0 ]; then group=www-data; fi
"$bin" serve --listen "unix:$socket" --socket-group "$group" --workers "$workers" --database "$database" \
    --control-database "$control" --access "$access" &
pids+=($!)
for _ in $(seq 100); do [ -S "$socket" ] && break; sleep 0.05; done
[ -S "$socket" ] || { echo "make run: shoal did not start (see above)" >&2; exit 1; }
nginx -p "$rundir" -c "$rundir/nginx.conf" -e stderr &
pids+=($!)
sleep 0.3
kill -0 "${pids[1]}" 2>/dev/null || { echo "make run: nginx did not start (see above)" >&2; exit 1; }

cat <<MSG
Shoal is running behind nginx ($workers workers, database $database, access $access):
  announce: http://127.0.0.1:$port/announce
  scrape:   http://127.0.0.1:$port/scrape
  the list: $bin torrents add FILE.torrent --control-database $control
Press Ctrl-C to stop.
MSG
# Stop everything as soon as either process exits.
wait -n "${pids[@]}"
