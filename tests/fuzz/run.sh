#!/usr/bin/env bash
# Runs every fuzz target of server/fuzz for a bounded time on a copy of its seed corpus (the
# committed corpus never grows here), and fails naming each crash with the command that
# reproduces it.
#
# Usage: tests/fuzz/run.sh [SECONDS_PER_TARGET]   (default 20)
# Environment: FUZZ_TARGETS="a b" runs only those; FUZZ_SANITIZER=none|address (default address);
# CARGO_TARGET_DIR as usual (default server/fuzz/target).
set -euo pipefail

seconds=${1:-20}
if ! [[ $seconds =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
    echo "usage: $0 [SECONDS_PER_TARGET]" >&2
    exit 2
fi

root=$(cd "$(dirname "$0")/../.." && pwd)
fuzz_dir=$root/server/fuzz
cache=$root/tests/.cache/fuzz
sanitizer=${FUZZ_SANITIZER:-address}
mkdir -p "$cache"

if ! command -v cargo >/dev/null; then
    echo "error: cargo is needed (https://rustup.rs)" >&2
    exit 1
fi

# cargo-fuzz, installed once into the cache unless one is already on PATH.
export PATH=$cache/cargo/bin:$PATH
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz into $cache/cargo"
    cargo install cargo-fuzz --locked --root "$cache/cargo" ||
        { echo "error: cannot install cargo-fuzz" >&2; exit 1; }
fi

# libFuzzer builds need unstable compiler flags (-Zsanitizer, coverage passes): a stable
# toolchain allows them under RUSTC_BOOTSTRAP; a nightly one ignores it.
export RUSTC_BOOTSTRAP=1

# The options go before the target's own arguments: after `--` they would reach libFuzzer.
fuzz() {
    local command=$1
    shift
    (cd "$root/server" && cargo fuzz "$command" --fuzz-dir "$fuzz_dir" "$@")
}

if [ -n "${FUZZ_TARGETS:-}" ]; then
    read -r -a targets <<<"$FUZZ_TARGETS"
else
    mapfile -t targets < <(fuzz list)
fi
[ ${#targets[@]} -gt 0 ] || { echo "error: no fuzz targets found in $fuzz_dir" >&2; exit 1; }

start=$(date +%s)
echo "building ${#targets[@]} fuzz targets (sanitizer: $sanitizer)"
fuzz build --sanitizer "$sanitizer" || { echo "error: the fuzz targets do not build" >&2; exit 1; }
echo "built in $(($(date +%s) - start))s"

failed=()
summary=()
for target in "${targets[@]}"; do
    work=$cache/$target
    rm -rf "$work/corpus" "$work/artifacts"
    mkdir -p "$work/corpus" "$work/artifacts"
    if [ -d "$fuzz_dir/corpus/$target" ]; then
        cp -R "$fuzz_dir/corpus/$target/." "$work/corpus/"
    fi
    log=$work/fuzz.log
    echo "== $target: ${seconds}s"
    status=0
    fuzz run --sanitizer "$sanitizer" "$target" "$work/corpus" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$work/artifacts/" >"$log" 2>&1 || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    summary+=("$(printf '%-18s %12s executions' "$target" "${execs:-?}")")
    # slow-unit-* files only record slow inputs; the others are failures.
    mapfile -t artifacts < <(find "$work/artifacts" -type f \( -name 'crash-*' -o -name 'oom-*' \
        -o -name 'timeout-*' -o -name 'leak-*' \) | sort)
    if [ "$status" -ne 0 ] || [ ${#artifacts[@]} -gt 0 ]; then
        failed+=("$target")
        echo "FAILED: $target (exit $status); log: $log" >&2
        grep -E '^(==[0-9]+==ERROR|thread .* panicked|SUMMARY|ERROR: libFuzzer)' "$log" | head -n 5 >&2 || true
        for a in "${artifacts[@]}"; do
            echo "  crash input: $a" >&2
            echo "  reproduce:   (cd server && RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz $target $a)" >&2
        done
        [ ${#artifacts[@]} -gt 0 ] || tail -n 20 "$log" >&2
    fi
done

echo "== executions per target (${seconds}s each)"
printf '%s\n' "${summary[@]}"
echo "total time: $(($(date +%s) - start))s"
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzzing found crashes in: ${failed[*]}" >&2
    exit 1
fi
echo "no crashes"
