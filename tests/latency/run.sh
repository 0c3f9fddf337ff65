#!/usr/bin/env bash
# Edit -> diagnostics latency of `countersign lsp` side by side with `ast-grep lsp`, driven by the
# same seeded edit scripts (lsp_latency.py), and prints a markdown table.
#
#   tests/latency/run.sh [--quick] [COUNTERSIGN_BIN]
#
# Full run: installs ast-grep (pinned, from PyPI, into a venv under tests/.cache/latency), builds
# countersign (cargo build --release) unless a binary is given, then for Python and SQL files of
# 10k and 100k lines runs 200 single-character edits and 50 pastes of 50 lines against each
# server (ast-grep: Python only, it has no SQL grammar), alternating which server goes first.
# Also measures start-up (spawn -> initialize response, median of 10) and the memory an open
# ~1 MB Python document costs. Takes 15-25 minutes on 2 shared cores.
#
# --quick: countersign only, 10k-line files, 20 single-character edits and 5 pastes per language,
# 3 start-ups, a burst of 50 edits; under 30 s. Exits non-zero when the measurement breaks (server
# crash, protocol error, a document that never gets diagnostics), never on timings.
#
# Environment:
#   COUNTERSIGN_BIN=/path     measure this binary (the argument wins)
#   CARGO_TARGET_DIR          respected when building
#   LATENCY_CACHE=DIR         venv and results (default: tests/.cache/latency)
#   LATENCY_TIMEOUT=10        seconds to wait for one edit's diagnostics
#   LATENCY_UTF8=1            offer utf-8 positions as well as utf-16
#   AST_GREP_VERSION=0.51.1   the ast-grep-cli release to install
#
# Results (results.md, results.json, the servers' stderr logs) are kept in
# $LATENCY_CACHE/results/<UTC time>/.
set -euo pipefail
exec </dev/null

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${LATENCY_CACHE:-$repo/tests/.cache/latency}"
sg_version="${AST_GREP_VERSION:-0.51.1}"
quick=""
cs="${COUNTERSIGN_BIN:-}"

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
    *) cs="$1"; shift ;;
  esac
done

die() { echo "run.sh: $*" >&2; exit 1; }
step() { printf '\n==> %s\n' "$*" >&2; }
command -v python3 >/dev/null || die "python3 (3.9+) is required"
command -v git >/dev/null || die "git is required (countersign runs in a git repository)"
[ -r /proc/self/stat ] || die "/proc is required (CPU time and memory are read from it)"

# --- countersign -------------------------------------------------------------------------------
if [ -n "$cs" ]; then
  [ -x "$cs" ] || die "$cs is not an executable file"
else
  command -v cargo >/dev/null || die "cargo is required to build countersign (or pass a binary)"
  step "cargo build --release"
  (cd "$repo" && cargo build --release --quiet -p countersign --bin countersign) || die "cargo build --release failed"
  target="$(cd "$repo" && cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
  cs="$target/release/countersign"
  [ -x "$cs" ] || die "no binary at $cs after the build"
fi
cs="$(cd "$(dirname "$cs")" && pwd)/$(basename "$cs")"

args=(--countersign "$cs")

# --- ast-grep ----------------------------------------------------------------------------------
if [ -z "$quick" ]; then
  venv="$cache/venv-ast-grep-$sg_version"
  sg="$venv/bin/ast-grep"
  if ! "$sg" --version 2>/dev/null | grep -qx "ast-grep $sg_version"; then
    step "installing ast-grep-cli==$sg_version into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "ast-grep-cli==$sg_version" \
      || die "pip install ast-grep-cli==$sg_version failed"
    "$sg" --version | grep -qx "ast-grep $sg_version" || die "$sg is not ast-grep $sg_version"
  fi
  # The same rules the scan benchmark gives ast-grep: equivalents of Countersign's Python rules.
  rules="$repo/tests/bench/scan/ast-grep/rules/python"
  [ -d "$rules" ] || die "missing $rules"
  args+=(--ast-grep "$sg" --ast-grep-rules "$rules")
fi

[ -n "$quick" ] && args+=(--quick)
[ "${LATENCY_UTF8:-}" = 1 ] && args+=(--utf8)
out="$cache/results/$(date -u +%Y%m%dT%H%M%SZ)${quick:+-quick}"
step "measuring (results in $out)"
python3 "$here/lsp_latency.py" suite "${args[@]}" --timeout "${LATENCY_TIMEOUT:-10}" --out "$out"
