#!/usr/bin/env bash
# Builds shoal-fuzz with libFuzzer and AddressSanitizer and runs every target for SECONDS each,
# starting from the committed seed corpus in Tests/fuzz/corpus/TARGET. New inputs it finds go to
# .build-fuzz/corpus/TARGET (not committed); a crash, a trap or a hang (over 10 s on one input)
# stops it, leaves the input in .build-fuzz/artifacts/ and fails the run.
# Usage: scripts/fuzz.sh SECONDS [TARGET...]   (targets: query bencode fastcgi config site)
set -euo pipefail
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(query bencode fastcgi config site)
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
swift build --sanitize fuzzer --sanitize address -Xswiftc -DFUZZING --product shoal-fuzz \
    --scratch-path .build-fuzz 2>&1 | grep -v "ld.gold: warning: Cannot export local symbol" || true
bin=$(swift build --sanitize fuzzer --sanitize address -Xswiftc -DFUZZING --product shoal-fuzz \
    --scratch-path .build-fuzz --show-bin-path)/shoal-fuzz
[ -x "$bin" ] || { echo "fuzz: $bin was not built" >&2; exit 1; }
mkdir -p .build-fuzz/artifacts
for target in "${targets[@]}"; do
    mkdir -p ".build-fuzz/corpus/$target"
    echo "fuzz: $target for ${seconds}s" >&2
    SHOAL_FUZZ_TARGET=$target "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
        -print_final_stats=1 -artifact_prefix=".build-fuzz/artifacts/$target-" \
        ".build-fuzz/corpus/$target" "Tests/fuzz/corpus/$target" 2>".build-fuzz/$target.log" || {
        tail -40 ".build-fuzz/$target.log" >&2
        echo "fuzz: $target failed; the input is in .build-fuzz/artifacts/" >&2
        exit 1
    }
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" ".build-fuzz/$target.log" | tr '\n' ' ' >&2
    echo >&2
done
