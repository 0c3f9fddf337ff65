#!/usr/bin/env bash
# Validates the SARIF that `scan` and `check` write with Microsoft's SARIF Multitool (the
# validator behind GitHub code scanning's format; from npm into tests/.cache/sarif): the SARIF
# 2.1.0 JSON schema plus its rules. Fails on any error-level result.
#
#   bash tests/sarif/validate.sh <countersign-binary>
set -euo pipefail
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="$repo/tests/.cache/sarif"
version="5.7.0"
tool="$cache/$version/package/Sarif.Multitool"
if [ ! -x "$tool" ]; then
  command -v npm >/dev/null || { echo "sarif validate: npm is needed to fetch the SARIF Multitool" >&2; exit 1; }
  rm -rf "$cache/$version" && mkdir -p "$cache/$version"
  (cd "$cache/$version" && npm pack --silent "@microsoft/sarif-multitool-linux@$version" >/dev/null \
    && tar xzf ./*.tgz && rm -f ./*.tgz && chmod +x package/Sarif.Multitool)
fi
# The tool is a self-contained .NET program; without ICU it still runs in invariant mode.
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
work="$(mktemp -d "${TMPDIR:-/tmp}/countersign-sarif.XXXXXX")"
trap 'rm -rf "$work"' EXIT

"$bin" scan --format sarif "$repo/tests/fixtures/catalogue" > "$work/scan.sarif" || [ $? -eq 1 ]

export GIT_AUTHOR_NAME=Dev GIT_AUTHOR_EMAIL=dev@example.com GIT_COMMITTER_NAME=Dev GIT_COMMITTER_EMAIL=dev@example.com
proj="$work/project"
mkdir -p "$proj/db" && cd "$proj"
git -c init.defaultBranch=main init -q
printf '# app\n' > README.md && git add . && git commit -qm start
git checkout -qb feature
printf 'SELECT 1;\nDROP TABLE users;\nDELETE FROM sessions;\n' > db/001.sql
git add . && git commit -qm "Migration

Co-authored-by: Claude <noreply@anthropic.com>"
"$bin" check --format sarif > "$work/check.sarif" || [ $? -eq 1 ]

failed=0
for name in scan check; do
  "$tool" validate "$work/$name.sarif" --output "$work/$name.validation.sarif" --log ForceOverwrite >"$work/$name.log" 2>&1 \
    || { cat "$work/$name.log"; failed=1; continue; }
  summary="$(python3 - "$work/$name.validation.sarif" "$work/$name.sarif" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["runs"][0].get("results", [])
errors = [r for r in results if r.get("level") == "error"]
found = len(json.load(open(sys.argv[2]))["runs"][0]["results"])
for r in errors:
    print("  error", r["ruleId"], r["message"].get("text", r["message"]), file=sys.stderr)
print(f"{len(errors)} errors, {len(results) - len(errors)} warnings or notes, {found} results")
sys.exit(1 if errors or found == 0 else 0)
PY
)" || failed=1
  echo "sarif validate: $name: $summary"
done
exit "$failed"
