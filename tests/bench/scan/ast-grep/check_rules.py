#!/usr/bin/env python3
"""Checks that the ast-grep rules here match what the Countersign rules of the same id match.

    python3 check_rules.py AST_GREP_BIN

Every Countersign rule lists examples that must flag and examples that must not
(`[examples] flag/ok` in grammars/<lang>/rules/*.toml). For each ast-grep rule, this writes the
examples of the Countersign rule with the same id to files, scans them with ast-grep, and reports
each example ast-grep gets wrong. A benchmark comparing the two tools is only fair while this
passes. Exit code 0 when every example agrees, 1 otherwise. Needs Python 3.11+ (tomllib).
"""

import glob
import json
import os
import subprocess
import sys
import tempfile
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
EXT = {"bash": "sh", "python": "py", "javascript": "js", "typescript": "ts", "tsx": "tsx",
       "go": "go", "rust": "rs", "hcl": "tf", "yaml": "yml"}


def base_id(rule_id):
    # JS rules exist once per grammar in ast-grep (`js/x`, `js/x@ts`, `js/x@tsx`).
    return rule_id.split("@", 1)[0]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check_rules.py AST_GREP_BIN")
    sg = sys.argv[1]
    ours = set()
    for path in glob.glob(os.path.join(HERE, "rules", "**", "*.yml"), recursive=True):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith("id: "):
                    ours.add(base_id(line[4:].strip()))
    specs = {}
    for path in glob.glob(os.path.join(REPO, "grammars", "*", "rules", "*.toml")):
        with open(path, "rb") as f:
            spec = tomllib.load(f)
        specs[spec["id"]] = spec
    missing = sorted(ours - specs.keys())
    if missing:
        print(f"ast-grep rules without a Countersign rule of that id: {', '.join(missing)}")
        return 1

    with tempfile.TemporaryDirectory() as tmp:
        expected = {}  # file -> (rule id, must flag)
        for rid in sorted(ours):
            spec = specs[rid]
            langs = spec["language"] if isinstance(spec["language"], list) else [spec["language"]]
            # JS rules: the examples are JavaScript; TS/TSX variants share the query.
            lang = langs[0]
            examples = spec.get("examples", {})
            for kind in ("flag", "ok"):
                for i, text in enumerate(examples.get(kind, [])):
                    rel = f"{rid.replace('/', '__')}/{kind}{i}.{EXT[lang]}"
                    p = os.path.join(tmp, rel)
                    os.makedirs(os.path.dirname(p), exist_ok=True)
                    with open(p, "w", encoding="utf-8") as f:
                        f.write(text if text.endswith("\n") else text + "\n")
                    expected[rel] = (rid, kind == "flag")
        out = subprocess.run(
            [sg, "scan", "-c", os.path.join(HERE, "sgconfig.yml"), "--json=stream", "."],
            cwd=tmp, capture_output=True, text=True)
        if out.returncode not in (0, 1):
            print(out.stderr)
            return 1
        hits = {}
        for line in out.stdout.splitlines():
            m = json.loads(line)
            hits.setdefault(m["file"].removeprefix("./"), set()).add(base_id(m["ruleId"]))
        bad = 0
        for rel, (rid, must) in sorted(expected.items()):
            got = rid in hits.get(rel, set())
            if got != must:
                bad += 1
                text = open(os.path.join(tmp, rel), encoding="utf-8").read().strip()
                print(f"{rid}: {'missed' if must else 'wrongly flagged'}: {text!r}")
        print(f"{len(ours)} rules, {len(expected)} examples, {bad} disagree")
        return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
