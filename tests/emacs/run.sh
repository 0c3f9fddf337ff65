#!/usr/bin/env bash
# Drives Countersign from a real Emacs through Eglot: editors/emacs/countersign.el as a user
# loads it, tests/emacs/e2e.el as the user's actions (see its header).
#
#   bash tests/emacs/run.sh <countersign-binary>
#
# Installs Emacs and Eglot when missing (Debian/Ubuntu: emacs-nox and elpa-eglot with apt-get,
# as root or through `sudo -n`); a second run installs nothing. Each run uses a fresh git
# repository and HOME in a temporary directory, removed afterwards unless the test failed.
#
# Environment:
#   COUNTERSIGN_EMACS         emacs binary to use (default: emacs on PATH)
#   COUNTERSIGN_E2E_TIMEOUT   seconds to wait for each server reaction (default 20)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

log() { printf 'emacs e2e: %s\n' "$*" >&2; }
die() { printf 'emacs e2e: error: %s\n' "$*" >&2; exit 2; }

[ $# -eq 1 ] || die "usage: bash tests/emacs/run.sh <countersign-binary>"
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")" || die "no such binary: $1"
[ -x "$bin" ] || die "not an executable: $bin"

emacs="${COUNTERSIGN_EMACS:-emacs}"

# Emacs 29+ ships Eglot; Debian's Emacs 28 gets it from elpa-eglot, which -Q does not load:
# activate the system package directory, and keep the user's own packages out of the test.
init='(progn
  (setq package-user-dir (expand-file-name "elpa" (getenv "HOME")))
  (unless (locate-library "eglot")
    (setq package-directory-list (list "/usr/share/emacs/site-lisp/elpa"))
    (package-initialize)))'

has_eglot() {
  command -v "$emacs" >/dev/null 2>&1 &&
    HOME="${TMPDIR:-/tmp}" "$emacs" --batch -Q --eval "$init" --eval '(require (quote eglot))' \
      >/dev/null 2>&1 </dev/null
}

install_emacs() {
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null && sudo -n true 2>/dev/null ||
      die "Emacs with Eglot is missing and installing it needs root (or passwordless sudo): apt-get install emacs-nox elpa-eglot"
    sudo=(sudo -n)
  fi
  command -v apt-get >/dev/null || die "Emacs with Eglot is missing and there is no apt-get: install Emacs 29+ (or Emacs 28 with the eglot package) and set COUNTERSIGN_EMACS"
  log "installing emacs-nox and elpa-eglot with apt-get"
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends \
    emacs-nox elpa-eglot >&2 ||
    { "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update >&2 &&
      "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends \
        emacs-nox elpa-eglot >&2; } ||
    die "apt-get could not install emacs-nox elpa-eglot"
}

command -v git >/dev/null || die "git is required"

if ! has_eglot; then
  [ -z "${COUNTERSIGN_EMACS:-}" ] || die "$emacs cannot load Eglot"
  install_emacs
  has_eglot || die "emacs still cannot load Eglot after installing emacs-nox elpa-eglot"
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/countersign-emacs.XXXXXX")"

# The snippet starts `countersign` from PATH, as it would for a user.
mkdir -p "$tmp/bin" "$tmp/home" "$tmp/repo/db"
ln -s "$bin" "$tmp/bin/countersign"
(
  cd "$tmp/repo"
  git init -q
  git config user.name "Dev Eloper"
  git config user.email dev@example.com
  git config commit.gpgsign false
  printf 'SELECT 1;\n' >db/001.sql
  git add db/001.sql
  git commit -q -m "Initial schema"
)

start=$SECONDS
rc=0
HOME="$tmp/home" PATH="$tmp/bin:$PATH" COUNTERSIGN_E2E_FILE="$tmp/repo/db/001.sql" \
  timeout 300 "$emacs" --batch -Q --eval "$init" \
  -l "$repo/editors/emacs/countersign.el" -l "$here/e2e.el" </dev/null || rc=$?
log "finished in $((SECONDS - start))s (exit $rc)"

if [ "$rc" = 0 ]; then
  rm -rf "$tmp"
else
  log "kept $tmp for inspection"
fi
exit "$rc"
