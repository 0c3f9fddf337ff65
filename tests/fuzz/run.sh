#!/usr/bin/env bash
# Runs every fuzz target of server/fuzz for a bounded time on a copy of its seed corpus (the
# committed corpus never grows here), prints the executions per target and in total, and fails
# naming each crash with the command that reproduces it.
#
# Usage: tests/fuzz/run.sh [SECONDS_PER_TARGET]   (default 15)
#
# Environment:
#   FUZZ_TARGETS="a b"     run only those targets
#   FUZZ_PROFILE=dev       (default) `cargo fuzz build --dev`: unoptimized, a cold build in a few
#                          minutes; what tests/run uses for its smoke run of every target
#   FUZZ_PROFILE=release   cargo-fuzz's optimized build (one codegen unit): many times the
#                          executions per second, for longer runs; a cold build takes ten
#                          minutes or more (much more with AddressSanitizer)
#   FUZZ_SANITIZER=none    (default) libFuzzer's coverage instrumentation only
#   FUZZ_SANITIZER=address AddressSanitizer too (memory errors in unsafe Rust code, leaks);
#                          slower to build and to run
#   FUZZ_TARGET_DIR=DIR    where the instrumented build goes (default tests/.cache/fuzz/target,
#                          kept between runs; the dev and release builds live there side by
#                          side, another sanitizer rebuilds). The main workspace's
#                          CARGO_TARGET_DIR is not used: these builds share nothing with it.
#
# Installs cargo-fuzz into tests/.cache/fuzz/cargo when it is not on PATH, and g++ (libFuzzer is
# C++) with apt-get when no C++ compiler is found.
set -euo pipefail

seconds=${1:-15}
if ! [[ $seconds =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
    echo "usage: $0 [SECONDS_PER_TARGET]" >&2
    exit 2
fi

root=$(cd "$(dirname "$0")/../.." && pwd)
fuzz_dir=$root/server/fuzz
cache=$root/tests/.cache/fuzz
sanitizer=${FUZZ_SANITIZER:-none}
profile=${FUZZ_PROFILE:-dev}
case $sanitizer in
    none | address) ;;
    *) echo "error: FUZZ_SANITIZER must be none or address, not '$sanitizer'" >&2; exit 2 ;;
esac
case $profile in
    dev) build_args=(--dev --sanitizer "$sanitizer") ;;
    release) build_args=(--sanitizer "$sanitizer") ;;
    *) echo "error: FUZZ_PROFILE must be dev or release, not '$profile'" >&2; exit 2 ;;
esac
mkdir -p "$cache" "${FUZZ_TARGET_DIR:-$cache/target}"
# Absolute: cargo fuzz runs in server/.
CARGO_TARGET_DIR=$(cd "${FUZZ_TARGET_DIR:-$cache/target}" && pwd)
export CARGO_TARGET_DIR

if ! command -v cargo >/dev/null; then
    echo "error: cargo is needed (https://rustup.rs)" >&2
    exit 1
fi

# libfuzzer-sys compiles libFuzzer, which is C++.
if ! command -v "${CXX:-c++}" >/dev/null; then
    sudo=()
    if [ "$(id -u)" != 0 ]; then
        { command -v sudo >/dev/null && sudo -n true 2>/dev/null; } ||
            { echo "error: no C++ compiler; install one (apt-get install g++) or set CXX" >&2; exit 1; }
        sudo=(sudo -n)
    fi
    command -v apt-get >/dev/null ||
        { echo "error: no C++ compiler and no apt-get to install g++; install one or set CXX" >&2; exit 1; }
    echo "installing g++ with apt-get (libFuzzer is C++)"
    "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends g++ ||
        { "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq &&
            "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends g++; } ||
        { echo "error: apt-get could not install g++" >&2; exit 1; }
fi

# cargo-fuzz, installed once into the cache unless one is already on PATH.
export PATH=$cache/cargo/bin:$PATH
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz into $cache/cargo"
    install_start=$(date +%s)
    cargo install cargo-fuzz --locked --root "$cache/cargo" ||
        { echo "error: cannot install cargo-fuzz" >&2; exit 1; }
    echo "installed cargo-fuzz in $(($(date +%s) - install_start))s"
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
echo "building the fuzz targets (profile: $profile, sanitizer: $sanitizer) in $CARGO_TARGET_DIR"
fuzz build "${build_args[@]}" || { echo "error: the fuzz targets do not build" >&2; exit 1; }
echo "built in $(($(date +%s) - start))s"

failed=()
summary=()
total=0
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
    fuzz run "${build_args[@]}" "$target" "$work/corpus" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$work/artifacts/" >"$log" 2>&1 || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    if [[ $execs =~ ^[0-9]+$ ]]; then
        total=$((total + execs))
    fi
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
            # The same build as this run's, so reproducing rebuilds nothing.
            echo "  reproduce:   (cd server && RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=$CARGO_TARGET_DIR cargo fuzz run --fuzz-dir fuzz ${build_args[*]} $target $a)" >&2
        done
        [ ${#artifacts[@]} -gt 0 ] || tail -n 20 "$log" >&2
    fi
done

echo "== executions per target (${seconds}s each; profile: $profile, sanitizer: $sanitizer)"
printf '%s\n' "${summary[@]}"
printf '%-18s %12s executions\n' total "$total"
echo "total time: $(($(date +%s) - start))s"
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzzing found crashes in: ${failed[*]}" >&2
    exit 1
fi
echo "no crashes"
