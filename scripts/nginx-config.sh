#!/usr/bin/env bash
# Writes a standalone nginx configuration for Shoal into RUNDIR.
# Usage: scripts/nginx-config.sh RUNDIR PORT UPSTREAM [ERROR_LOG] [ACCESS_LOG]
#   UPSTREAM is what fastcgi_pass takes: unix:/path/shoal.sock or 127.0.0.1:9000.
#   FASTCGI_KEEPALIVE=N (environment) keeps up to N idle FastCGI connections per nginx worker
#   open (upstream keepalive + fastcgi_keep_conn); off by default, see README "Benchmark".
#   REAL_IP_HEADER=NAME (environment) takes the client's address from that header when the request
#   comes from 127.0.0.1 (nginx real_ip), as the benchmark does to give each peer an address.
set -euo pipefail
rundir=$1 port=$2 upstream=$3
error_log=${4:-$rundir/error.log}
access_log=${5:-off}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$rundir"
# nginx's workers run as an unprivileged user: they must be able to reach the socket's directory.
chmod 755 "$rundir"
listen_v6=""
# Listen on [::1] too when loopback has IPv6.
if grep -q ' lo$' /proc/net/if_inet6 2>/dev/null; then listen_v6="        listen [::1]:$port;"; fi
upstream_block="" pass=$upstream
if [ -n "${FASTCGI_KEEPALIVE:-}" ]; then
    upstream_block="    upstream shoal_backend { server $upstream; keepalive $FASTCGI_KEEPALIVE; }"
    pass=shoal_backend
fi
# As root, nginx's workers run as www-data, the group `shoal serve --socket-group` gives the socket.
user_line=""
if [ "$(id -u)" -eq 0 ]; then user_line="user www-data www-data;"; fi
real_ip=""
if [ -n "${REAL_IP_HEADER:-}" ]; then
    real_ip="        set_real_ip_from 127.0.0.1; real_ip_header $REAL_IP_HEADER;"
fi
sed -e "s#@USER@#$user_line#" -e "s#@REAL_IP@#$real_ip#" -e "s#@UPSTREAM_BLOCK@#$upstream_block#" -e "s#@RUNDIR@#$rundir#g" -e "s#@PORT@#$port#g" -e "s#@UPSTREAM@#$upstream#g" \
    -e "s#@ERROR_LOG@#$error_log#g" -e "s#@ACCESS_LOG@#$access_log#g" \
    -e "s#@NGINX_WORKERS@#${NGINX_WORKERS:-auto}#g" -e "s#@LISTEN_V6@#$listen_v6#" \
    "$root/nginx/nginx.conf.template" > "$rundir/nginx.conf"
sed -e "s#fastcgi_pass .*;#fastcgi_pass $pass;#" "$root/nginx/shoal-locations.conf" > "$rundir/shoal-locations.conf"
if [ -n "${FASTCGI_KEEPALIVE:-}" ]; then
    sed -i "s#fastcgi_pass $pass;#fastcgi_pass $pass;\n    fastcgi_keep_conn on;#" "$rundir/shoal-locations.conf"
fi
cp /etc/nginx/fastcgi_params "$rundir/fastcgi_params"
