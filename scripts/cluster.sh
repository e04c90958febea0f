#!/usr/bin/env bash
# `make cluster`: the sharded tracker on one machine, for real. HOSTS Shoal hosts (default 3),
# each in its own network namespace with its own nginx (nginx/cluster/host.conf's rules) and its
# own tmpfs database, behind the front nginx (nginx/cluster/front.conf and shoal-front.js) on
# 127.0.0.1:$PORT and $NET.1:$PORT. Needs root (namespaces, veth pairs, a bridge),
# libnginx-mod-http-set-misc and libnginx-mod-http-js. Foreground; Ctrl-C (or SIGTERM) removes
# everything it created.
# The hosts' full scrapes are merged into the front's every SCRAPE_EVERY seconds
# (nginx/cluster/shoal-cluster-scrape, as systemd/shoal-cluster-scrape.timer does on a real front).
#   HOSTS=3 PORT=6969 CLUSTER_NAME=shoal CLUSTER_NET=10.77.0 WORKERS=1 SCRAPE_EVERY=60
set -euo pipefail
hosts=${1:-${HOSTS:-3}}
port=${PORT:-6969}
name=${CLUSTER_NAME:-shoal}
net=${CLUSTER_NET:-10.77.0}
workers=${WORKERS:-1}
scrape_every=${SCRAPE_EVERY:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${SHOAL_BIN:-$(cd "$root" && swift build -c release --show-bin-path)/shoal}
rundir=${RUNDIR:-/tmp/$name-cluster}
bridge=$name-br

[ "$(id -u)" -eq 0 ] || { echo "make cluster: needs root (network namespaces)" >&2; exit 1; }
# The front's modules (cluster_front.py loads them).
for module in ngx_http_set_misc_module ngx_http_js_module; do
    [ -f "/usr/lib/nginx/modules/$module.so" ] || {
        echo "make cluster: $module is missing: apt-get install libnginx-mod-http-set-misc libnginx-mod-http-js" >&2
        exit 1
    }
done
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "make cluster: 127.0.0.1:$port is already in use; use PORT=..." >&2
    exit 1
fi

if ip link show "$bridge" >/dev/null 2>&1 || ip netns list | grep -q "^$name-h"; then
    echo "make cluster: a cluster named $name exists already (another make cluster, or one that was killed):" \
        "stop it, or remove it with: ip link del $bridge; for ns in \$(ip netns list | grep -o '^$name-h[0-9]*');" \
        "do ip netns del \$ns; done; or use CLUSTER_NAME=..." >&2
    exit 1
fi

pids=()
cleanup() {
    trap - INT TERM EXIT
    [ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
    # A veth pair goes with its namespace only later (the kernel tears namespaces down in the
    # background): deleting our end removes both now, so the names are free when this returns.
    for i in $(seq "$hosts"); do
        ip link del "$name-v$i" 2>/dev/null || true
        ip netns del "$name-h$i" 2>/dev/null || true
    done
    ip link del "$bridge" 2>/dev/null || true
    rm -rf "$rundir" /dev/shm/"$name"-h*.db*
    echo "make cluster: stopped and removed" >&2
}
trap cleanup INT TERM EXIT

rm -rf "$rundir"
mkdir -p "$rundir"
ip link add "$bridge" type bridge
ip addr add "$net.1/24" dev "$bridge"
ip link set "$bridge" up

hostargs=""
hostlist=()
for i in $(seq "$hosts"); do
    ns=$name-h$i
    address=$net.$((i + 1))
    ip netns add "$ns"
    ip link add "$name-v$i" type veth peer name eth0 netns "$ns"
    ip link set "$name-v$i" master "$bridge" up
    ip netns exec "$ns" ip addr add "$address/24" dev eth0
    ip netns exec "$ns" ip link set eth0 up
    ip netns exec "$ns" ip link set lo up
    dir=$rundir/h$i
    REAL_IP_HEADER=X-Real-IP "$root/scripts/nginx-config.sh" "$dir" 80 "unix:$dir/shoal.sock" "$dir/error.log"
    # host.conf's rules: listen on the host's own address; believe X-Real-IP from the front only.
    sed -i -e "s/listen 127.0.0.1:80;/listen $address:80;/" -e "s/set_real_ip_from 127.0.0.1;/set_real_ip_from $net.1;/" \
        "$dir/nginx.conf"
    ip netns exec "$ns" "$bin" serve --listen "unix:$dir/shoal.sock" --socket-group www-data --workers "$workers" \
        --database "/dev/shm/$name-h$i.db" --control-database "" \
        --full-scrape yes --full-scrape-interval 0 --full-scrape-cache "$scrape_every" 2>>"$dir/shoal.log" &
    pids+=($!)
    for _ in $(seq 100); do [ -S "$dir/shoal.sock" ] && break; sleep 0.05; done
    ip netns exec "$ns" nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" &
    pids+=($!)
    hostargs+=" --host $address:80"
    hostlist+=("$address:80")
done

front=$rundir/front
python3 "$root/scripts/cluster_front.py" "$front" --listen "127.0.0.1:$port" --listen "$net.1:$port" $hostargs
nginx -p "$front" -c "$front/nginx.conf" -e "$front/error.log" &
front_pid=$!
pids+=($front_pid)
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
while true; do
    SHOAL=$bin "$root/nginx/cluster/shoal-cluster-scrape" "$front/fullscrape" "${hostlist[@]}" 2>>"$front/scrape.log" || true
    sleep "$scrape_every"
done &
pids+=($!)

cat <<MSG
Shoal cluster: $hosts hosts ($net.2..$net.$((hosts + 1)), each nginx + shoal serve in namespace $name-hN)
behind the front on 127.0.0.1:$port and $net.1:$port:
  announce: http://127.0.0.1:$port/announce
  full scrape (the hosts' merged every ${scrape_every}s): http://127.0.0.1:$port/scrape
  a host:   ip netns exec $name-h1 curl http://$net.2/stats
  failover: ip netns pids $name-h2 | xargs kill -9   (its swarms move to the next host; the rest stays up)
Press Ctrl-C to stop and remove everything.
MSG
# Only the front's end ends the demo: a host may die, or be killed to watch the failover.
wait "$front_pid"
