#!/usr/bin/env bash
# How long `countersign check` takes on a typical pull request: a repository of 2,000 files
# (Python, SQL, shell, Terraform), and a branch whose AI-trailer commit changes 50 of them
# (about 20 added lines each, some risky). Prints the median and spread of N runs.
#
#   COUNTERSIGN_BIN=target/release/countersign bash tests/bench/check/run.sh [-n RUNS]
set -euo pipefail
runs=15
[ "${1:-}" = -n ] && runs="$2"
bin="$(cd "$(dirname "${COUNTERSIGN_BIN:-target/release/countersign}")" && pwd)/$(basename "${COUNTERSIGN_BIN:-target/release/countersign}")"
[ -x "$bin" ] || { echo "no binary at $bin (cargo build --release)" >&2; exit 2; }
work="$(mktemp -d "${TMPDIR:-/tmp}/countersign-check-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"
export GIT_AUTHOR_NAME=Dev GIT_AUTHOR_EMAIL=dev@example.com GIT_COMMITTER_NAME=Dev GIT_COMMITTER_EMAIL=dev@example.com
git -c init.defaultBranch=main init -q
python3 - <<'PY'
import os, random
random.seed(7)
kinds = [("py", "def f{i}(db):\n    return db.execute('SELECT {i}')\n"),
         ("sql", "SELECT {i} FROM t{i} WHERE id = {i};\n"),
         ("sh", "echo step {i}\ncp a{i} b{i}\n"),
         ("tf", "resource \"aws_s3_bucket\" \"b{i}\" {{\n  bucket = \"b{i}\"\n}}\n")]
for n in range(2000):
    ext, body = kinds[n % 4]
    d = f"src/m{n % 40}"
    os.makedirs(d, exist_ok=True)
    with open(f"{d}/f{n}.{ext}", "w") as f:
        f.write("".join(body.format(i=i) for i in range(60)))
PY
git add . && git commit -qm base
git checkout -qb feature
python3 - <<'PY'
risky = {"py": "    os.system('rm -rf /var/lib/app')\n", "sql": "DROP TABLE t{n};\n",
         "sh": "rm -rf \"$DIR/\"\n", "tf": "resource \"aws_db_instance\" \"d{n}\" {{\n  deletion_protection = false\n}}\n"}
for n in range(0, 2000, 40):  # 50 files
    ext = ["py", "sql", "sh", "tf"][n % 4]
    path = f"src/m{n % 40}/f{n}.{ext}"
    with open(path, "a") as f:
        for k in range(18):
            f.write({"py": f"x{k} = {k}\n", "sql": f"SELECT {k};\n", "sh": f"echo {k}\n", "tf": f"# note {k}\n"}[ext])
        f.write(risky[ext].format(n=n))
PY
git commit -qam "Feature

Co-authored-by: Claude <noreply@anthropic.com>"
"$bin" check --base main >/dev/null && { echo "expected findings" >&2; exit 1; } || true
times=()
for _ in $(seq "$runs"); do
  s=$(date +%s%N)
  "$bin" check --base main >/dev/null || true
  e=$(date +%s%N)
  times+=($(( (e - s) / 1000000 )))
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
echo "countersign check, 50 changed files of 2,000, $runs runs: median ${sorted[$((runs / 2))]} ms (min ${sorted[0]}, max ${sorted[$((runs - 1))]})"
echo "findings: $("$bin" check --base main --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["findings"]))')"
