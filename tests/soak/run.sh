#!/usr/bin/env bash
# Soak run of the language server: tests/soak/run.sh [BIN] [soak.py options]
# BIN defaults to a release build made here. Writes tests/.cache/soak/{rss.csv,summary.json}.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$repo/tests/.cache/soak"
bin="${1:-}"
[ $# -gt 0 ] && shift
if [ -z "$bin" ]; then
    echo "building a release binary (cargo build --release)..." >&2
    (cd "$repo" && cargo build --release -p countersign --bin countersign >&2)
    bin="${CARGO_TARGET_DIR:-$repo/target}/release/countersign"
fi
[ -x "$bin" ] || { echo "soak: $bin is not an executable countersign binary" >&2; exit 2; }
command -v python3 >/dev/null || { echo "soak: python3 is needed" >&2; exit 2; }
command -v git >/dev/null || { echo "soak: git is needed" >&2; exit 2; }
mkdir -p "$out"
exec python3 "$here/soak.py" "$bin" --out "$out" "$@"
