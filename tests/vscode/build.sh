#!/usr/bin/env bash
# Builds the VS Code extension in editors/vscode into a .vsix: installs its npm dependencies
# (from package-lock.json), lints, type-checks, runs the unit tests, and packages it, offline
# once the dependencies are installed.
#
# Usage: tests/vscode/build.sh [COUNTERSIGN_BINARY]
#   With a binary (or $COUNTERSIGN_BIN), the package targets this platform and bundles it as
#   server/<platform>-<arch>/countersign; without, it is universal and uses the PATH server.
#
# Idempotent: dependencies are reinstalled only when package-lock.json or Node changed; runs
# in this checkout are serialised by a lock under tests/.cache.
# Progress goes to stderr; the last line on stdout is the absolute path of the .vsix.
# Needs Node 20+ with npm, and the npm registry for the first install.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
ext="$repo/editors/vscode"

log() { printf 'vscode build: %s\n' "$*" >&2; }
die() { printf 'vscode build: error: %s\n' "$*" >&2; exit 1; }

step() { # step NAME COMMAND...: runs it in the extension folder, output to stderr, timed
  local name="$1" start rc=0
  shift
  start=$(date +%s)
  log "$name"
  (cd "$ext" && "$@") >&2 || rc=$?
  [ "$rc" -eq 0 ] || die "$name failed (exit $rc); see the output above"
  log "$name: ok in $(( $(date +%s) - start ))s"
}

binary="${1:-${COUNTERSIGN_BIN:-}}"
if [ -n "$binary" ]; then
  [ -f "$binary" ] || die "no countersign binary at $binary"
  binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"
  "$binary" --version >/dev/null 2>&1 || die "$binary does not run (try: $binary --version)"
fi

command -v node >/dev/null || die "node is not installed (Node 20 or newer; on Debian: apt-get install -y nodejs npm)"
command -v npm >/dev/null || die "npm is not installed (on Debian: apt-get install -y npm)"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || die "Node $(node --version) is too old: the build needs Node 20 or newer"
[ -f "$ext/package-lock.json" ] || die "$ext/package-lock.json is missing"

# One build at a time in this checkout: npm ci, esbuild and vsce all rewrite the same folders.
lock_dir="${COUNTERSIGN_CACHE_DIR:-$repo/tests/.cache}"
mkdir -p "$lock_dir"
if command -v flock >/dev/null; then
  exec 9>"$lock_dir/vscode-build.lock"
  flock -w 900 9 || die "another build of the extension held $lock_dir/vscode-build.lock for 15 minutes"
fi

started=$(date +%s)
# npm ci wipes node_modules; skip it when the same lockfile was installed with the same Node.
stamp="$ext/node_modules/.countersign-install-stamp"
want="$(cat "$ext/package-lock.json" "$ext/package.json" | sha256sum | cut -d' ' -f1) node-$node_major"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  log "dependencies up to date"
else
  step "npm ci" npm ci --prefer-offline --no-audit --no-fund
  printf '%s\n' "$want" >"$stamp"
fi

step "lint" npm run --silent lint
step "typecheck" npm run --silent typecheck
step "unit tests" npm run --silent test
if [ -n "$binary" ]; then
  step "package with $binary" env COUNTERSIGN_BIN="$binary" node scripts/package.mjs
else
  log "no countersign binary given: packaging a universal extension that uses countersign on PATH"
  step "package" env -u COUNTERSIGN_BIN node scripts/package.mjs
fi

vsix="$ext/dist/countersign.vsix"
[ -f "$vsix" ] || die "packaging reported success but $vsix does not exist"
log "built $(du -h "$vsix" | cut -f1) in $(( $(date +%s) - started ))s"
echo "$vsix"
