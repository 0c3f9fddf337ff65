#!/usr/bin/env python3
"""Soak run of `countersign lsp`: a scripted hour of editing, with the server's memory sampled.

Drives the real server over stdio with random typing, deleting, pasting (multi-line inserts,
which count as AI-written), `countersign/aiEdit` notifications, saves, closes and reopens,
code actions and sign-off requests over files in several languages. Samples VmRSS every
`--sample` edits, writes the curve as CSV, and says whether memory plateaus. Fails only on a
crash or a protocol error; timing is reported, never judged.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time

SNIPPETS = {
    "sql": ("sql", ".sql", ["SELECT id FROM users WHERE id = 1;\n", "DROP TABLE sessions;\n",
                            "UPDATE t SET a = 1 WHERE b = 2;\n", "TRUNCATE audit_log;\n",
                            "DELETE FROM jobs;\n", "-- note\n"]),
    "sh": ("shellscript", ".sh", ["echo building\n", "rm -rf \"$BUILD_DIR/\"\n",
                                  "terraform destroy -auto-approve\n", "ls -la\n",
                                  "git push --force origin main\n"]),
    "py": ("python", ".py", ["import os\n", "x = compute(1, 2)\n",
                             "os.system(\"rm -rf /srv/data\")\n", "def f(a):\n    return a\n",
                             "shutil.rmtree(path)\n", "cursor.execute(\"DROP TABLE t\")\n"]),
    "js": ("javascript", ".js", ["const a = [1, 2, 3];\n", "fs.rmSync(dir, { recursive: true });\n",
                                 "db.query(\"DELETE FROM users\");\n", "console.log(a);\n"]),
    "go": ("go", ".go", ["package main\n", "func main() {}\n",
                         "exec.Command(\"sh\", \"-c\", \"rm -rf /\").Run()\n", "var x = 1\n"]),
    "tf": ("terraform", ".tf", ["resource \"aws_s3_bucket\" \"b\" {\n  force_destroy = true\n}\n",
                                "variable \"x\" {}\n", "# comment\n"]),
    "yaml": ("yaml", ".yaml", ["a: 1\n", "steps:\n  - run: rm -rf /var/lib/app\n", "b: [1, 2]\n"]),
    "rs": ("rust", ".rs", ["fn main() {}\n", "let x = 1;\n",
                           "std::fs::remove_dir_all(\"/srv\").unwrap();\n"]),
}


class ProtocolError(Exception):
    pass


class Server:
    def __init__(self, binary, root):
        self.proc = subprocess.Popen([binary, "lsp"], cwd=root, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.next_id = 0
        self.replies = {}
        self.cond = threading.Condition()
        self.closed = False
        self.stderr_tail = []
        self.published = 0
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    def _drain_stderr(self):
        for line in self.proc.stderr:
            self.stderr_tail = (self.stderr_tail + [line.decode("utf-8", "replace")])[-50:]

    def _read(self):
        out = self.proc.stdout
        try:
            while True:
                length = None
                while True:
                    line = out.readline()
                    if not line:
                        return
                    line = line.strip()
                    if not line:
                        break
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                if length is None:
                    raise ProtocolError("a message without Content-Length")
                msg = json.loads(out.read(length))
                if msg.get("method") == "textDocument/publishDiagnostics":
                    self.published += 1
                elif "id" in msg and "method" not in msg:
                    with self.cond:
                        self.replies[msg["id"]] = msg
                        self.cond.notify_all()
                elif "id" in msg and "method" in msg:
                    # A server→client request (registerCapability): answer it.
                    self.send({"jsonrpc": "2.0", "id": msg["id"], "result": None})
        finally:
            with self.cond:
                self.closed = True
                self.cond.notify_all()

    def send(self, msg):
        body = json.dumps(msg).encode()
        try:
            self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise ProtocolError("the server closed its input (crashed?)")

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method, params, timeout=120):
        self.next_id += 1
        rid = self.next_id
        self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        deadline = time.time() + timeout
        with self.cond:
            while rid not in self.replies:
                if self.closed:
                    raise ProtocolError(f"the server exited during {method}")
                left = deadline - time.time()
                if left <= 0:
                    raise ProtocolError(f"no reply to {method} in {timeout} s")
                self.cond.wait(left)
            return self.replies.pop(rid)

    def rss_mib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        raise ProtocolError("no VmRSS")


class Doc:
    def __init__(self, path, uri, language, lines):
        self.path, self.uri, self.language, self.lines = path, uri, language, lines
        self.version = 0
        self.open = False

    def text(self):
        return "".join(self.lines)


def position_at(doc, rng):
    if not doc.lines:
        return 0, 0
    line = rng.randrange(len(doc.lines))
    return line, rng.randrange(len(doc.lines[line].rstrip("\n")) + 1)


def apply(doc, l1, c1, l2, c2, text):
    """Mirrors the edit locally (ASCII only, so columns are the same in every encoding)."""
    whole = doc.text()
    offsets = [0]
    for line in doc.lines:
        offsets.append(offsets[-1] + len(line))
    a, b = offsets[l1] + c1, offsets[l2] + c2
    whole = whole[:a] + text + whole[b:]
    doc.lines = whole.splitlines(keepends=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--edits", type=int, default=100_000)
    ap.add_argument("--files", type=int, default=20)
    ap.add_argument("--sample", type=int, default=2_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    root = tempfile.mkdtemp(prefix="countersign-soak-")
    subprocess.run(["git", "init", "-q", root], check=True)
    for k, v in [("user.name", "Soak"), ("user.email", "soak@example.com")]:
        subprocess.run(["git", "-C", root, "config", k, v], check=True)

    kinds = list(SNIPPETS)
    docs = []
    for i in range(args.files):
        language, ext, snippets = SNIPPETS[kinds[i % len(kinds)]]
        path = os.path.join(root, f"src{i % 4}", f"file{i}{ext}")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        lines = [rng.choice(snippets) for _ in range(200)]
        with open(path, "w") as f:
            f.write("".join(lines))
        docs.append(Doc(path, "file://" + path, language, lines))

    server = Server(args.binary, root)
    uri = "file://" + root
    server.request("initialize", {"processId": os.getpid(), "rootUri": uri,
                                  "capabilities": {"general": {"positionEncodings": ["utf-8"]}},
                                  "workspaceFolders": [{"uri": uri, "name": "soak"}]})
    server.notify("initialized", {})

    def open_doc(doc):
        doc.version += 1
        server.notify("textDocument/didOpen", {"textDocument": {
            "uri": doc.uri, "languageId": doc.language, "version": doc.version, "text": doc.text()}})
        doc.open = True

    for doc in docs:
        open_doc(doc)

    samples = []
    started = time.time()
    counts = {"type": 0, "delete": 0, "paste": 0, "aiEdit": 0, "save": 0, "reopen": 0,
              "codeAction": 0, "signoff": 0}
    csv_path = os.path.join(args.out, "rss.csv")
    for n in range(1, args.edits + 1):
        doc = rng.choice(docs)
        if not doc.open:
            open_doc(doc)
            counts["reopen"] += 1
        snippets = SNIPPETS[kinds[docs.index(doc) % len(kinds)]][2]
        roll = rng.random()
        l1, c1 = position_at(doc, rng)
        l2, c2 = l1, c1
        if roll < 0.6:
            text = rng.choice("abcdefghij (),;=\"'") if rng.random() < 0.9 else "\n"
            counts["type"] += 1
        elif roll < 0.85:
            text = ""
            if rng.random() < 0.7:
                c2 = min(c1 + rng.randint(1, 4), len(doc.lines[l1].rstrip("\n")) if doc.lines else 0)
            else:
                l2 = min(l1 + rng.randint(1, 3), len(doc.lines) - 1) if doc.lines else 0
                c2 = 0
                c1 = 0
            counts["delete"] += 1
        else:
            c1 = c2 = 0
            text = "".join(rng.choice(snippets) for _ in range(rng.randint(2, 6)))
            counts["paste"] += 1
        # Keep the files from drifting to nothing or to megabytes.
        if len(doc.lines) > 600 and text:
            text = ""
        if len(doc.lines) < 50 and not text:
            text = rng.choice(snippets)
        apply(doc, l1, c1, l2, c2, text)
        doc.version += 1
        server.notify("textDocument/didChange", {
            "textDocument": {"uri": doc.uri, "version": doc.version},
            "contentChanges": [{"range": {"start": {"line": l1, "character": c1},
                                          "end": {"line": l2, "character": c2}}, "text": text}]})
        if n % 97 == 0 and doc.lines:
            line = rng.randrange(len(doc.lines))
            server.notify("countersign/aiEdit", {
                "textDocument": {"uri": doc.uri, "version": doc.version},
                "ranges": [{"start": {"line": line, "character": 0},
                            "end": {"line": min(line + 3, len(doc.lines)), "character": 0}}],
                "agent": rng.choice(["claude-code", "cursor", "codex"])})
            counts["aiEdit"] += 1
        if n % 50 == 0:
            # A request after every few edits: a round trip that proves the server keeps up.
            line = rng.randrange(max(1, len(doc.lines)))
            reply = server.request("textDocument/codeAction", {
                "textDocument": {"uri": doc.uri},
                "range": {"start": {"line": line, "character": 0},
                          "end": {"line": line + 1, "character": 0}},
                "context": {"diagnostics": []}})
            if "error" in reply:
                raise ProtocolError(f"codeAction failed: {reply}")
            counts["codeAction"] += 1
            actions = reply.get("result") or []
            if actions and n % 1000 == 0:
                cmd = actions[0]["command"]
                r = server.request("workspace/executeCommand",
                                   {"command": cmd["command"], "arguments": cmd["arguments"]})
                # A request can go stale between the two calls only through our own edits,
                # which are not interleaved here; any error is a real failure.
                if "error" in r and "no longer" not in r["error"].get("message", ""):
                    raise ProtocolError(f"executeCommand failed: {r}")
                counts["signoff"] += 1
        if n % 400 == 0:
            with open(doc.path, "w") as f:
                f.write(doc.text())
            server.notify("textDocument/didSave", {"textDocument": {"uri": doc.uri}})
            counts["save"] += 1
        if n % 1500 == 0:
            victim = rng.choice(docs)
            if victim.open:
                server.notify("textDocument/didClose", {"textDocument": {"uri": victim.uri}})
                victim.open = False
        if n % args.sample == 0 or n == args.edits:
            server.request("textDocument/hover", {"textDocument": {"uri": doc.uri},
                                                  "position": {"line": 0, "character": 0}})
            rss = server.rss_mib()
            samples.append((n, round(time.time() - started, 1), round(rss, 1)))
            print(f"{n:>7} edits  {samples[-1][1]:>7.1f} s  RSS {rss:7.1f} MiB", flush=True)
            with open(csv_path, "w") as f:
                f.write("edits,seconds,rss_mib\n")
                f.writelines(f"{a},{b},{c}\n" for a, b, c in samples)

    reply = server.request("shutdown", None)
    if "error" in reply:
        raise ProtocolError(f"shutdown failed: {reply}")
    server.notify("exit", None)
    code = server.proc.wait(timeout=30)
    log = "".join(server.stderr_tail)
    if code != 0:
        raise ProtocolError(f"exit code {code}:\n{log}")

    q = max(1, len(samples) // 4)
    first = sum(s[2] for s in samples[:q]) / q
    last_quarter = samples[-q:]
    growth = last_quarter[-1][2] - last_quarter[0][2]
    plateau = growth < 0.05 * first
    summary = {
        "edits": args.edits, "files": args.files, "seconds": round(time.time() - started, 1),
        "published": server.published, "counts": counts,
        "rss_first_quarter_mean_mib": round(first, 1),
        "rss_last_quarter_growth_mib": round(growth, 1),
        "rss_peak_mib": max(s[2] for s in samples), "plateau": plateau,
    }
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary, indent=2))
    print(f"curve: {csv_path}")
    print("RSS plateaus" if plateau else
          f"RSS still grows in the last quarter: +{growth:.1f} MiB (first quarter {first:.1f} MiB)")


if __name__ == "__main__":
    try:
        main()
    except ProtocolError as e:
        print(f"soak: FAILED: {e}", file=sys.stderr)
        sys.exit(1)
