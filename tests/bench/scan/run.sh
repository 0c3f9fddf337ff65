#!/usr/bin/env bash
# Benchmarks `countersign scan` side by side with `ast-grep scan` (equivalent rules, see
# ast-grep/) on the same corpus in one run, and prints a markdown table: median wall time, noise
# (min–max), peak RSS and finding counts per tool, and the ratio ast-grep / countersign.
#
#   tests/bench/scan/run.sh [-n RUNS]
#
# Steps: install ast-grep (pinned, from PyPI, into a venv under tests/.cache/bench), build
# countersign (cargo build --release) unless COUNTERSIGN_BIN is given, build the corpus if
# missing (corpus.sh), check that the ast-grep rules still agree with Countersign's rule
# examples, warm the file cache and run each tool once untimed, then run the two tools
# alternately RUNS times. Each timed run records wall time (date +%s.%N), peak RSS
# (/usr/bin/time) and its exit status; `countersign scan` exiting 1 (findings) and ast-grep
# exiting 1 (error-level findings) are successes. A run longer than BENCH_TIMEOUT is stopped and
# that tool is reported as a timeout.
#
# Environment:
#   COUNTERSIGN_BIN=/path    benchmark this binary instead of building one
#   CARGO_TARGET_DIR         respected when building
#   BENCH_RUNS=5             timed runs per tool (-n overrides)
#   BENCH_TIMEOUT=120        seconds one run may take
#   BENCH_CORPUS=DIR         scan this folder instead of the corpus corpus.sh builds
#   BENCH_CACHE=DIR          venv, corpus and results (default: tests/.cache/bench)
#   AST_GREP_VERSION=0.51.1  the ast-grep-cli release to install
#
# Results (the table, both tools' findings and the findings only one of them reports) are kept
# in $BENCH_CACHE/results/.
set -euo pipefail
exec </dev/null

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
cache="${BENCH_CACHE:-$repo/tests/.cache/bench}"
runs="${BENCH_RUNS:-5}"
limit="${BENCH_TIMEOUT:-120}"
sg_version="${AST_GREP_VERSION:-0.51.1}"

while [ $# -gt 0 ]; do
  case "$1" in
    -n) [ $# -ge 2 ] || { echo "run.sh: -n needs a number" >&2; exit 2; }; runs="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
case "$runs" in ''|*[!0-9]*|0) echo "run.sh: runs must be a positive number, got '$runs'" >&2; exit 2 ;; esac

die() { echo "run.sh: $*" >&2; exit 1; }
step() { printf '\n==> %s\n' "$*" >&2; }
command -v python3 >/dev/null || die "python3 is required"
command -v timeout >/dev/null || die "timeout (coreutils) is required"

# --- ast-grep ----------------------------------------------------------------------------------
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

# --- countersign -------------------------------------------------------------------------------
if [ -n "${COUNTERSIGN_BIN:-}" ]; then
  cs="$COUNTERSIGN_BIN"
  [ -x "$cs" ] || die "COUNTERSIGN_BIN=$cs is not an executable file"
else
  command -v cargo >/dev/null || die "cargo is required to build countersign (or set COUNTERSIGN_BIN)"
  step "cargo build --release"
  (cd "$repo" && cargo build --release --quiet -p countersign) || die "cargo build --release failed"
  target="$(cd "$repo" && cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
  cs="$target/release/countersign"
  [ -x "$cs" ] || die "no binary at $cs after the build"
fi
cs="$(cd "$(dirname "$cs")" && pwd)/$(basename "$cs")"

# --- /usr/bin/time for peak RSS ------------------------------------------------------------------
gnu_time=/usr/bin/time
if ! "$gnu_time" -f %M true >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    step "apt-get install time (for peak RSS)"
    apt-get install -y -qq time >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq time >/dev/null 2>&1; } || true
  fi
  "$gnu_time" -f %M true >/dev/null 2>&1 || { echo "run.sh: /usr/bin/time missing: peak RSS not measured" >&2; gnu_time=""; }
fi

# --- corpus ------------------------------------------------------------------------------------
if [ -n "${BENCH_CORPUS:-}" ]; then
  [ -d "$BENCH_CORPUS" ] || die "BENCH_CORPUS=$BENCH_CORPUS is not a folder"
  corpus="$(cd "$BENCH_CORPUS" && pwd)"
else
  step "corpus"
  BENCH_CACHE="$cache" "$here/corpus.sh" >&2
  corpus="$cache/corpus"
fi
# Both tools get the same relative path from the same folder, so their reported paths compare.
workdir="$(dirname "$corpus")"
target_arg="$(basename "$corpus")"

# --- the rules still mean the same --------------------------------------------------------------
step "checking the ast-grep rules against Countersign's rule examples"
if ! python3 "$here/ast-grep/check_rules.py" "$sg" >&2; then
  echo "run.sh: WARNING: some ast-grep rules no longer match what the Countersign rule of the same id matches; the finding counts compare less well" >&2
fi

results="$cache/results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$results"

cs_cmd=("$cs" scan --format json "$target_arg")
# --no-ignore hidden: countersign scans hidden folders (.github/workflows) too.
sg_cmd=("$sg" scan -c "$here/ast-grep/sgconfig.yml" --no-ignore hidden --json=stream "$target_arg")

# One run: "<wall seconds> <peak RSS KiB> <exit status>" on stdout; the tool's output in $2.
run_once() { # tool outfile
  local tool="$1" out="$2" t0 t1 status rss=""
  local -a cmd
  if [ "$tool" = countersign ]; then cmd=("${cs_cmd[@]}"); else cmd=("${sg_cmd[@]}"); fi
  t0="$(date +%s.%N)"
  set +e
  if [ -n "$gnu_time" ]; then
    (cd "$workdir" && "$gnu_time" -f %M -o "$results/rss.tmp" timeout "$limit" "${cmd[@]}" >"$out" 2>"$out.err")
  else
    (cd "$workdir" && timeout "$limit" "${cmd[@]}" >"$out" 2>"$out.err")
  fi
  status=$?
  set -e
  t1="$(date +%s.%N)"
  # GNU time notes a non-zero exit on its first line; the RSS is the last.
  [ -n "$gnu_time" ] && rss="$(tail -n1 "$results/rss.tmp" 2>/dev/null)"
  echo "$(python3 -c "print(f'{$t1 - $t0:.3f}')") ${rss:-0} $status"
}

# Both exit 1 when they find something: countersign for any finding, ast-grep for error-level ones.
ok_status() { # status
  [ "$1" = 0 ] || [ "$1" = 1 ]
}

declare -A timed_out=()
step "warming the file cache"
find "$corpus" -type f -print0 | xargs -0 cat >/dev/null
for tool in countersign ast-grep; do
  read -r wall rss status < <(run_once "$tool" "$results/$tool.warmup.json")
  if [ "$status" = 124 ]; then
    echo "run.sh: $tool did not finish within ${limit}s: reported as a timeout, not timed further" >&2
    timed_out[$tool]=1
  elif ! ok_status "$status"; then
    cat "$results/$tool.warmup.json.err" >&2
    die "$tool failed (exit $status) on the warm-up run; its stderr is above"
  else
    echo "   $tool warm-up: ${wall}s" >&2
  fi
done

step "$runs timed runs per tool, alternating"
: >"$results/runs.tsv"
for i in $(seq 1 "$runs"); do
  # Alternate which tool goes first, so drift (thermal, other load) hits both alike.
  if [ $((i % 2)) = 1 ]; then order=(countersign ast-grep); else order=(ast-grep countersign); fi
  for tool in "${order[@]}"; do
    [ -z "${timed_out[$tool]:-}" ] || continue
    read -r wall rss status < <(run_once "$tool" "$results/$tool.json")
    if [ "$status" = 124 ]; then
      timed_out[$tool]=1
      echo "   run $i $tool: timeout after ${limit}s" >&2
      continue
    fi
    ok_status "$status" || { cat "$results/$tool.json.err" >&2; die "$tool failed (exit $status) in run $i"; }
    printf '%s\t%s\t%s\t%s\n' "$tool" "$i" "$wall" "$rss" >>"$results/runs.tsv"
    echo "   run $i $tool: ${wall}s, $((rss / 1024)) MiB" >&2
  done
done

# --- the table -----------------------------------------------------------------------------------
machine="$(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1), $(free -g | awk '/^Mem:/ {print $2}') GiB"
python3 - "$results" "$limit" "$machine" "$runs" "$("$cs" --version 2>/dev/null | head -n1)" \
  "$("$sg" --version)" "${timed_out[countersign]:-}" "${timed_out[ast-grep]:-}" \
  "$here/ast-grep/rules" <<'PY' | tee "$results/table.md"
import json, os, statistics, sys
from collections import Counter, defaultdict

results, limit, machine, runs, cs_version, sg_version, cs_to, sg_to, sg_rule_dir = sys.argv[1:10]
timeouts = {"countersign": cs_to == "1", "ast-grep": sg_to == "1"}
walls, rss = defaultdict(list), defaultdict(list)
with open(os.path.join(results, "runs.tsv")) as f:
    for line in f:
        tool, _, wall, kib = line.split("\t")
        walls[tool].append(float(wall))
        rss[tool].append(int(kib))


def load(tool):
    """(rule, path, line) of every finding in the tool's last complete output."""
    for name in (f"{tool}.json", f"{tool}.warmup.json"):
        p = os.path.join(results, name)
        if not os.path.exists(p) or os.path.getsize(p) == 0:
            continue
        with open(p) as f:
            text = f.read()
        try:
            if tool == "countersign":
                return [(x["rule"], x["path"].removeprefix("./"), x["start"]["line"])
                        for x in json.loads(text)["findings"]]
            out = []
            for line in text.splitlines():
                m = json.loads(line)
                # JS rules exist once per grammar (`js/x@ts`); lines are 0-based.
                out.append((m["ruleId"].split("@")[0], m["file"].removeprefix("./"),
                            m["range"]["start"]["line"] + 1))
            return out
        except (ValueError, KeyError):
            continue
    return None


found = {t: load(t) for t in ("countersign", "ast-grep")}
med = {}
print(f"Machine: {machine}. {runs} alternating runs per tool after one warm-up run, warm file cache.\n")
print("| tool | median wall (s) | noise: min–max (s) | peak RSS (MiB) | findings |")
print("|---|---:|---:|---:|---:|")
for tool, version in (("countersign", cs_version), ("ast-grep", sg_version)):
    n = len(found[tool]) if found[tool] is not None else "–"
    if walls[tool]:
        med[tool] = statistics.median(walls[tool])
        noise = f"{min(walls[tool]):.2f}–{max(walls[tool]):.2f}"
        peak = f"{max(rss[tool]) / 1024:.0f}" if max(rss[tool]) else "n/a"
        timing = f"{med[tool]:.2f} | {noise} | {peak}"
    else:
        timing = f"> {limit} (timeout) | – | –"
    print(f"| {version or tool} | {timing} | {n} |")
if "countersign" in med and "ast-grep" in med:
    print(f"\nast-grep / countersign (median wall): **{med['ast-grep'] / med['countersign']:.2f}×**")
elif timeouts["countersign"]:
    print(f"\ncountersign did not finish within {limit} s: no ratio.")

# Findings of the rules both tools have, compared by (rule, file, line).
if found["countersign"] is not None and found["ast-grep"] is not None:
    sg_rules = set()
    for d, _, names in os.walk(sg_rule_dir):
        for n in names:
            with open(os.path.join(d, n)) as f:
                sg_rules |= {l[4:].strip().split("@")[0] for l in f if l.startswith("id: ")}
    cs_set = set(found["countersign"])
    sg_set = set(found["ast-grep"])
    # Countersign reports code embedded in a string by its own rule (os.system("kubectl delete
    # ns x") is shell/kubectl-delete, not the Python rule), so a finding on the same line under
    # another rule is the same catch.
    cs_lines = {(p, l) for _, p, l in cs_set}
    sg_lines = {(p, l) for _, p, l in sg_set}
    only_sg = sorted(f for f in sg_set if (f[1], f[2]) not in cs_lines)
    cs_on_shared = {f for f in cs_set if f[0] in sg_rules}
    only_cs = sorted(f for f in cs_on_shared if (f[1], f[2]) not in sg_lines)
    with open(os.path.join(results, "only-ast-grep.tsv"), "w") as f:
        f.writelines(f"{r}\t{p}:{l}\n" for r, p, l in only_sg)
    with open(os.path.join(results, "only-countersign.tsv"), "w") as f:
        f.writelines(f"{r}\t{p}:{l}\n" for r, p, l in only_cs)
    same = len(sg_set & cs_set)
    other_rule = len(sg_set) - same - len(only_sg)
    print(f"\nast-grep's {len(sg_set)} findings: {same} also found by countersign under the same "
          f"rule, {other_rule} on a line countersign flags under another rule (embedded code), "
          f"**{len(only_sg)} missed by countersign**. Countersign has {len(only_cs)} findings of "
          f"these rules on lines ast-grep does not flag, and {len(cs_set - cs_on_shared)} of rules "
          f"ast-grep has no counterpart for (SQL, newer rules).")
    for title, rows in (("Missed by countersign", only_sg), ("Only countersign", only_cs)):
        if rows:
            print(f"\n{title}, per rule: " + ", ".join(
                f"{r} {n}" for r, n in Counter(r for r, _, _ in rows).most_common()))
PY
echo "results: $results" >&2
