#!/usr/bin/env bash
# Builds the corpus for the scan benchmark: about a million lines of Python, shell, JS/TS, Go,
# HCL, SQL, YAML and Rust, from pinned registry packages plus a deterministic generated part.
#
#   tests/bench/scan/corpus.sh [--force]
#
# Output: tests/.cache/bench/corpus (git-ignored). Nothing is done when the corpus exists and was
# built by this version of the script and generator; --force rebuilds it. Downloads are kept in
# tests/.cache/bench/downloads, so a rebuild needs no network.
#
# Sources (each pinned to one version, fetched with the registry's own client):
#   PyPI sdists (pip download)       ansible-core, celery, flask, requests
#   npm packages (npm pack)          express, lodash, axios, rxjs, @types/node
#   Debian Go sources (apt-get)      hcl/v2, gin, go-sql-driver/mysql, cobra, prometheus client
#   crates (cargo fetch)             serde, regex, clap, clap_builder
#   gen_corpus.py (fixed seed)       SQL migrations, Terraform modules, deployment scripts,
#                                    GitHub workflows, Kubernetes manifests, small tools in
#                                    Python/JS/TS/Go/Rust, with some risky constructs mixed in
#
# Needs: python3 with pip, npm, apt-get + dpkg (Debian/Ubuntu; root, or sudo, for the one
# `apt-get update` a fresh machine needs), cargo, tar.
#
# Environment:
#   BENCH_CACHE=DIR   where downloads and the corpus go (default: tests/.cache/bench)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
cache="${BENCH_CACHE:-$repo/tests/.cache/bench}"
corpus="$cache/corpus"
stamp="$cache/corpus.stamp"
dl="$cache/downloads"

force=0
case "${1:-}" in
  --force) force=1 ;;
  "") ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "corpus.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac

PYPI=(ansible-core==2.21.5 celery==5.7.0 flask==3.1.3 requests==2.34.2)
NPM=(express@5.3.0 lodash@4.18.1 axios@1.21.1 rxjs@7.8.2 @types/node@26.6.6)
DEBS=(
  golang-github-hashicorp-hcl-v2-dev=2.14.1-2
  golang-github-gin-gonic-gin-dev=1.8.1-1
  golang-github-go-sql-driver-mysql-dev=1.5.0-2
  golang-github-spf13-cobra-dev=1.6.1-1
  golang-github-prometheus-client-golang-dev=1.14.0-3
)
CRATES=(serde=1.0.219 regex=1.11.1 clap=4.5.37 clap_builder=4.5.37)

die() { echo "corpus.sh: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' is required ($2)"; }

# The stamp ties the corpus to the pinned lists above and to the generator: editing either
# rebuilds it, so figures are never taken on a stale mix.
want="$(cat "$0" "$here/gen_corpus.py" | sha256sum | cut -d' ' -f1)"

count_lines() {
  python3 - "$1" <<'PY'
import os, sys
# The same extension mapping as countersign's Lang::from_path, so "lines per language" means
# the lines each tool is asked to look at.
EXT = {
    "sql": "SQL", "psql": "SQL", "pgsql": "SQL", "ddl": "SQL",
    "sh": "Shell", "bash": "Shell", "zsh": "Shell", "ksh": "Shell",
    "py": "Python", "pyi": "Python", "pyw": "Python",
    "js": "JavaScript", "mjs": "JavaScript", "cjs": "JavaScript", "jsx": "JavaScript",
    "ts": "TypeScript", "mts": "TypeScript", "cts": "TypeScript", "tsx": "TypeScript",
    "go": "Go", "rs": "Rust", "tf": "HCL", "tfvars": "HCL", "hcl": "HCL",
    "yml": "YAML", "yaml": "YAML",
}
root = sys.argv[1]
files, lines = {}, {}
for d, dirs, names in os.walk(root):
    for n in names:
        low = n.lower()
        if low in ("dockerfile", "containerfile") or low.startswith("dockerfile."):
            lang = "Dockerfile"
        else:
            lang = EXT.get(low.rsplit(".", 1)[-1] if "." in low else "", "other (not scanned)")
        p = os.path.join(d, n)
        if os.path.islink(p):
            continue
        with open(p, "rb") as f:
            c = f.read().count(b"\n")
        files[lang] = files.get(lang, 0) + 1
        lines[lang] = lines.get(lang, 0) + c
print(f"{'language':<22}{'files':>8}{'lines':>11}")
total_f = total_l = 0
for lang in sorted(lines, key=lambda k: (k.startswith("other"), -lines[k])):
    print(f"{lang:<22}{files[lang]:>8}{lines[lang]:>11}")
    if not lang.startswith("other"):
        total_f += files[lang]
        total_l += lines[lang]
print(f"{'total scanned':<22}{total_f:>8}{total_l:>11}")
PY
}

if [ "$force" = 0 ] && [ -d "$corpus" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "corpus up to date: $corpus"
  count_lines "$corpus"
  exit 0
fi

need python3 "the generator and pip"
python3 -m pip --version >/dev/null 2>&1 || die "python3 has no pip (Debian: apt-get install python3-pip)"
need npm "npm pack"
need apt-get "Go sources come from Debian packages"
need dpkg "to unpack the Debian packages"
need cargo "cargo fetch"
need tar "to unpack archives"

mkdir -p "$dl/pypi" "$dl/npm" "$dl/deb" "$dl/cargo"
new="$cache/corpus.new"
rm -rf "$new"
mkdir -p "$new"

# --- PyPI sdists (tests and all, as a repository would have them) ----------------------------
for spec in "${PYPI[@]}"; do
  name="${spec%%==*}" ver="${spec##*==}"
  # sdist names use either the project's spelling or the normalized one (PEP 625).
  pattern="$(echo "$name" | sed 's/[-_.]/[-_.]/g')-$ver.tar.gz"
  file="$(find "$dl/pypi" -maxdepth 1 -iname "$pattern" | head -n1)"
  if [ -z "$file" ]; then
    echo "==> pip download $spec"
    # --ignore-requires-python: the source is only read, never run, so the local interpreter's
    # version must not decide which release we get.
    python3 -m pip download --quiet --no-deps --no-binary :all: --ignore-requires-python \
      -d "$dl/pypi" "$spec" || die "pip download $spec failed"
    file="$(find "$dl/pypi" -maxdepth 1 -iname "$pattern" | head -n1)"
    [ -n "$file" ] || die "pip download $spec produced no $pattern in $dl/pypi"
  fi
  mkdir -p "$new/python"
  tar -xzf "$file" -C "$new/python"
done

# --- npm packages ------------------------------------------------------------------------------
for spec in "${NPM[@]}"; do
  name="${spec%@*}" ver="${spec##*@}"
  base="$(echo "${name#@}" | tr '/' '-')"
  file="$dl/npm/$base-$ver.tgz"
  if [ ! -f "$file" ]; then
    echo "==> npm pack $spec"
    (cd "$dl/npm" && npm pack --silent "$spec" >/dev/null) || die "npm pack $spec failed"
    [ -f "$file" ] || die "npm pack $spec produced no $file"
  fi
  mkdir -p "$new/js/$base-$ver"
  tar -xzf "$file" -C "$new/js/$base-$ver" --strip-components=1
done

# --- Go sources from Debian ------------------------------------------------------------------
apt_updated=0
for spec in "${DEBS[@]}"; do
  name="${spec%%=*}" ver="${spec##*=}"
  file="$(find "$dl/deb" -maxdepth 1 -name "${name}_*${ver#*:}_all.deb" | head -n1)"
  if [ -z "$file" ]; then
    echo "==> apt-get download $spec"
    if ! (cd "$dl/deb" && apt-get download -q "$spec" 2>/dev/null); then
      # A fresh machine has no package lists yet: fetch them once and retry.
      if [ "$apt_updated" = 0 ]; then
        sudo_=""
        [ "$(id -u)" = 0 ] || sudo_="sudo"
        $sudo_ apt-get update -qq || die "apt-get update failed"
        apt_updated=1
      fi
      (cd "$dl/deb" && apt-get download -q "$spec") \
        || die "apt-get download $spec failed (is this Debian 12 'bookworm'? the pinned version may be missing elsewhere)"
    fi
    file="$(find "$dl/deb" -maxdepth 1 -name "${name}_*${ver#*:}_all.deb" | head -n1)"
    [ -n "$file" ] || die "apt-get download $spec produced no .deb in $dl/deb"
  fi
  tmp="$(mktemp -d)"
  dpkg -x "$file" "$tmp"
  [ -d "$tmp/usr/share/gocode/src" ] || die "$file has no usr/share/gocode/src"
  mkdir -p "$new/go/$name"
  cp -a "$tmp/usr/share/gocode/src/." "$new/go/$name/"
  rm -rf "$tmp"
done

# --- Rust crates -----------------------------------------------------------------------------
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
find_crate() { find "$cargo_home/registry/cache" -name "$1-$2.crate" 2>/dev/null | head -n1; }
missing=0
for spec in "${CRATES[@]}"; do
  [ -n "$(find_crate "${spec%%=*}" "${spec##*=}")" ] || missing=1
done
if [ "$missing" = 1 ]; then
  echo "==> cargo fetch ${CRATES[*]}"
  proj="$dl/cargo/fetch"
  rm -rf "$proj"
  mkdir -p "$proj/src"
  echo 'fn main() {}' >"$proj/src/main.rs"
  {
    printf '[package]\nname = "bench-corpus-fetch"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n'
    # An empty [workspace] keeps this throwaway package out of any enclosing workspace.
    printf '[workspace]\n\n[dependencies]\n'
    for spec in "${CRATES[@]}"; do
      printf '%s = { version = "=%s", default-features = false }\n' "${spec%%=*}" "${spec##*=}"
    done
  } >"$proj/Cargo.toml"
  host="$(rustc -vV 2>/dev/null | sed -n 's/^host: //p')"
  (cd "$proj" && cargo fetch --quiet ${host:+--target "$host"}) || die "cargo fetch failed"
fi
for spec in "${CRATES[@]}"; do
  name="${spec%%=*}" ver="${spec##*=}"
  file="$(find_crate "$name" "$ver")"
  [ -n "$file" ] || die "crate $name $ver not found in $cargo_home/registry/cache after cargo fetch"
  mkdir -p "$new/rust"
  tar -xzf "$file" -C "$new/rust"
done

# --- Generated part --------------------------------------------------------------------------
echo "==> gen_corpus.py"
python3 "$here/gen_corpus.py" "$new"

# Both tools honour ignore files; a package's own .gitignore would make them skip parts of the
# corpus (differently, if one of them reads a kind the other does not), so none are kept.
find "$new" \( -name .gitignore -o -name .ignore -o -name .rgignore -o -name .sgignore \) \
  -type f -delete
# Both would skip a nested git repository's metadata anyway; keep the corpus plain files.
find "$new" -name .git -prune -exec rm -rf {} +

rm -rf "$corpus"
mv "$new" "$corpus"
echo "$want" >"$stamp"
echo "corpus built: $corpus"
count_lines "$corpus"
