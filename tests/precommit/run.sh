#!/usr/bin/env bash
# Runs the pre-commit hook definitions in editors/pre-commit through a real pre-commit (from
# PyPI, into tests/.cache/pre-commit): a commit adding AI-written `DROP TABLE` (recorded by the
# real Claude Code hook) is refused; one adding the same code by a person goes through.
#
#   bash tests/precommit/run.sh <countersign-binary>
set -euo pipefail
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="$repo/tests/.cache/pre-commit"
version="4.3.0"
# Into a venv where python3 can make one, else (Debian without python3-venv) into a folder on
# PYTHONPATH: `pip install --target` needs neither a venv nor a writable system site.
pc() {
  if [ -x "$cache/venv/bin/pre-commit" ]; then "$cache/venv/bin/pre-commit" "$@"
  else PYTHONPATH="$cache/lib" python3 -m pre_commit "$@"; fi
}
if ! pc --version 2>/dev/null | grep -q "$version"; then
  rm -rf "$cache/venv" "$cache/lib"
  if python3 -m venv "$cache/venv" >/dev/null 2>&1 \
    && "$cache/venv/bin/pip" install --quiet --disable-pip-version-check "pre-commit==$version"; then
    :
  else
    rm -rf "$cache/venv"
    python3 -m pip install --quiet --disable-pip-version-check --target "$cache/lib" "pre-commit==$version"
  fi
fi
[ -x "$cache/venv/bin/pre-commit" ] || export PYTHONPATH="$cache/lib"
pc --version
work="$(mktemp -d "${TMPDIR:-/tmp}/countersign-precommit.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export PRE_COMMIT_HOME="$cache/home" PATH="$(dirname "$bin"):$PATH"
export GIT_AUTHOR_NAME=Dev GIT_AUTHOR_EMAIL=dev@example.com GIT_COMMITTER_NAME=Dev GIT_COMMITTER_EMAIL=dev@example.com
g() { git -c init.defaultBranch=main -c commit.gpgsign=false "$@"; }

# A hooks repository holding the shipped definitions.
hooks="$work/hooks"
mkdir -p "$hooks" && cp "$repo/editors/pre-commit/.pre-commit-hooks.yaml" "$hooks/"
g -C "$hooks" init -q && g -C "$hooks" add . && g -C "$hooks" commit -qm hooks
rev="$(git -C "$hooks" rev-parse HEAD)"
pc validate-manifest "$hooks/.pre-commit-hooks.yaml"

project="$work/project"
mkdir -p "$project/db" && cd "$project"
g init -q
printf 'repos:\n  - repo: %s\n    rev: %s\n    hooks:\n      - id: countersign-check\n' "$hooks" "$rev" > .pre-commit-config.yaml
printf '# app\n' > README.md
g add . && g commit -qm start
pc install >/dev/null

fail() { echo "pre-commit e2e: FAIL: $*"; exit 1; }

# The agent writes a migration; its hook records it.
printf 'DROP TABLE users;\n' > db/001.sql
printf '{"cwd":"%s","tool_name":"Write","tool_input":{"file_path":"%s/db/001.sql","content":"DROP TABLE users;\\n"}}' \
  "$project" "$project" | "$bin" hook claude-code
g add db/001.sql
if out="$(g commit -qm "Drop users" 2>&1)"; then
  fail "the commit of AI-written DROP TABLE went through: $out"
fi
grep -q "sql/drop-table" <<<"$out" || fail "the refusal does not name the rule: $out"
grep -q "written by claude-code (hook)" <<<"$out" || fail "the refusal does not name the agent: $out"
echo "pre-commit e2e: AI-written DROP TABLE refused"

# A person's migration goes through.
g reset -q
rm db/001.sql
printf 'TRUNCATE logs;\n' > db/002.sql
g add db/002.sql
out="$(g commit -qm "Truncate logs" 2>&1)" || fail "a person's commit was refused: $out"
echo "pre-commit e2e: a person's commit goes through"
echo "pre-commit e2e: 2 passed, 0 failed"
