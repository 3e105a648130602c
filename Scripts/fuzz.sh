#!/usr/bin/env bash
# Coverage-guided fuzzing of the decoders with libFuzzer and AddressSanitizer.
#
#   Scripts/fuzz.sh SECONDS [TARGET...]
#
# Builds clever-fuzz with -sanitize=fuzzer,address (release, in .build-fuzz),
# writes a seed corpus from the reference vectors (Scripts/fuzz-seeds.py), and
# runs each target (default: all, see Sources/clever-fuzz/FuzzTarget.swift)
# for an equal share of SECONDS, one after the other. The corpus grows in
# .build-fuzz/fuzz/corpus/TARGET and is reused by the next run; a crash, hang
# (-timeout, 10 s) or allocation over 512 MB (-malloc_limit_mb) is saved in
# .build-fuzz/fuzz/crashes/TARGET/ and stops that target (only this run's are counted). Replay one with
# `swift run clever-fuzz FILE` (or CLEVER_FUZZ_TARGET=TARGET .build-fuzz/release/clever-fuzz FILE).
#
# Prints, per target, the inputs executed and the crashes found; exits 1 when
# any target crashed. FUZZ_JOBS=N runs N targets at a time (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 1 ] || ! [[ "$1" =~ ^[0-9]+$ ]] || [ "$1" -lt 1 ]; then
    echo "usage: Scripts/fuzz.sh SECONDS [TARGET...]" >&2
    exit 2
fi
total=$1
shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(frames json handshake file-header beacon)
fi
share=$(( total / ${#targets[@]} ))
[ "$share" -ge 1 ] || share=1
jobs=${FUZZ_JOBS:-1}

build=.build-fuzz
flags=(-c release --build-path "$build" --product clever-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING)
echo "== building clever-fuzz with -sanitize=fuzzer,address"
swift build "${flags[@]}"
binary="$(swift build "${flags[@]}" --show-bin-path)/clever-fuzz"

work=$build/fuzz
mkdir -p "$work"
# Crashes of this run only are counted: those saved after this marker.
touch "$work/run-started"
rm -rf "$work/seeds"
python3 Scripts/fuzz-seeds.py "$work/seeds" >/dev/null

run_target() {
    local target=$1
    mkdir -p "$work/corpus/$target" "$work/crashes/$target" "$work/logs"
    echo "== $target: ${share} s"
    # The exit status says whether it crashed; the summary counts the saved inputs.
    CLEVER_FUZZ_TARGET=$target "$binary" "$work/corpus/$target" "$work/seeds/$target" \
        -max_total_time="$share" -timeout=10 -malloc_limit_mb=512 -rss_limit_mb=2048 -max_len=8192 \
        -artifact_prefix="$work/crashes/$target/" -print_final_stats=1 \
        >"$work/logs/$target.log" 2>&1 || true
}

running=0
for target in "${targets[@]}"; do
    run_target "$target" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait

echo
printf '%-12s %14s %8s %s\n' target executions crashes "saved in"
failed=0
grand=0
for target in "${targets[@]}"; do
    log="$work/logs/$target.log"
    executions=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*$' || true)
    if [ -z "$executions" ]; then
        # Stopped by a crash before the final stats: the last progress line's count.
        executions=$(grep -o '^#[0-9]*' "$log" | tail -n 1 | tr -d '#' || true)
    fi
    executions=${executions:-0}
    crashes=$(find "$work/crashes/$target" -type f -newer "$work/run-started" \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l)
    printf '%-12s %14s %8s %s\n' "$target" "$executions" "$crashes" "$work/crashes/$target"
    grand=$((grand + executions))
    [ "$crashes" -eq 0 ] || failed=1
done
printf '%-12s %14s\n' total "$grand"
exit $failed
