#!/usr/bin/env bash
# Instructions one Shoal worker executes for a fixed sequence of announces, counted by callgrind:
# repeatable whatever else the machine does, unlike requests per second.
#   bench/instructions.sh BINARY [COUNT] [shoal serve options…]
# Prints the worker's total. Compare two binaries (or two sets of options) with the same COUNT.
# BENCH_PRIVATE_SECRET=S with options --tracking private --secret S --control-database PATH
# announces with tokens, as a private tracker's clients do.
set -euo pipefail
binary=$1; count=${2:-4000}; shift; [ $# -gt 0 ] && shift
work=$(mktemp -d /dev/shm/shoal-instructions-XXXXXX)
trap 'rm -rf "$work"' EXIT
# valgrind 3.19 cannot read the DWARF 5 that Swift writes: count on a copy without debug info.
strip --strip-debug -o "$work/shoal" "$binary"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$work/out.%p" \
    "$work/shoal" serve --listen "127.0.0.1:$port" --workers 1 --database "$work/peers.db" --control-database "" "$@" \
    2>/dev/null &
pid=$!
for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
/usr/bin/python3 "$(dirname "$0")/fastcgi_load.py" "127.0.0.1:$port" "$count"
kill -INT "$pid"; wait "$pid" || true
# The worker is the process that ran longest: the largest total.
grep -h '^summary' "$work"/out.* | awk '{ print $2 }' | sort -n | tail -1
