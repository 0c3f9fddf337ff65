#!/usr/bin/env bash
# Runs the VS Code end-to-end test: installs the tools (install.sh), packages the extension with
# the given server binary inside (build.sh), then drives it in a real VS Code workbench
# (e2e.mjs). Exits non-zero on failure; the last line is `vscode e2e: N passed, M failed`.
#
#   bash tests/vscode/run.sh <countersign-binary>
#   bash tests/vscode/run.sh --smoke          # the workbench alone, without the extension
#
# Environment:
#   COUNTERSIGN_VSCODE_VSIX=FILE   test this package instead of building one (the binary
#                                  argument is then not needed)
#   COUNTERSIGN_E2E_DEADLINE_S     deadline of the e2e run in seconds (default 360)
#   COUNTERSIGN_E2E_KEEP=1         keep the temporary workspace and VS Code profile
#   COUNTERSIGN_CACHE_DIR          cache root for install.sh (default <repo>/tests/.cache)
# Screenshots and logs: tests/.artifacts/vscode/.
set -euo pipefail
exec </dev/null

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
artifacts="$repo/tests/.artifacts/vscode"

not_run() { # reason: a failure that happened before any check ran still counts as one
  printf 'vscode e2e: error: %s\n' "$*" >&2
  echo "vscode e2e: 0 passed, 1 failed"
  exit 1
}

smoke=0
bin=""
case "${1:-}" in
  --smoke) smoke=1 ;;
  "") [ -n "${COUNTERSIGN_VSCODE_VSIX:-}" ] || not_run "usage: $0 <countersign-binary> | --smoke" ;;
  *) bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
     [ -x "$bin" ] || not_run "$1 is not an executable" ;;
esac

tools="$(bash "$here/install.sh")" || not_run "installing the tools failed (see above)"

vsix_args=()
if [ "$smoke" = 0 ]; then
  vsix="${COUNTERSIGN_VSCODE_VSIX:-}"
  if [ -z "$vsix" ]; then
    [ -f "$here/build.sh" ] || not_run "no $here/build.sh to package the extension"
    stamp="$(mktemp)"
    trap 'rm -f "$stamp"' EXIT
    echo "vscode e2e: bash tests/vscode/build.sh $bin" >&2
    # build.sh prints the package's path as its last line on stdout.
    out="$(bash "$here/build.sh" "$bin")" || not_run "tests/vscode/build.sh $bin failed (see above)"
    vsix="$(printf '%s\n' "$out" | tail -n1)"
    [ -f "$vsix" ] || not_run "build.sh named no package (its output: $out)"
    # An old package left over from an earlier build must not pass for this one.
    [ "$vsix" -nt "$stamp" ] || not_run "build.sh did not write a new $vsix"
  fi
  [ -f "$vsix" ] || not_run "no extension package at $vsix"
  vsix_args=(--vsix "$vsix")
fi

rc=0
# The e2e has its own deadline and stops code-server on it; this one only catches a hang of
# the test process itself.
deadline="${COUNTERSIGN_E2E_DEADLINE_S:-360}"
timeout --kill-after=15 $((deadline + 60)) \
  "$tools/bin/node" "$here/e2e.mjs" --tools "$tools" --artifacts "$artifacts" "${vsix_args[@]}" || rc=$?
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
  echo "vscode e2e: error: the test process hung and was killed after $((deadline + 60))s" >&2
  echo "vscode e2e: 0 passed, 1 failed"
fi
exit "$rc"
