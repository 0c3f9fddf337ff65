#!/usr/bin/env python3
"""Edit -> diagnostics latency of any stdio language server, with one deterministic edit script.

The harness plays the editor: it starts the server, initializes it (offering utf-16 positions
like VS Code, or utf-8 with --utf8), opens one generated document, then sends the edits of a
seeded script one didChange at a time and waits for that version's publishDiagnostics before
sending the next (closed loop). Incremental-sync servers get the edit's range; full-sync servers
get the whole new text, as an editor would send them.

A publish answers an edit when it carries the edit's version. A server that publishes without a
version is matched by the first publish for the document after the didChange was written; the
results say which rule was used ("match").

Subcommands:
  measure  -- CMD...   one server, one document, one edit script (JSON result on stdout)
  startup  -- CMD...   spawn -> initialize response, median of N starts
  docmem   -- CMD...   RSS cost of opening a ~1 MB Python document
  suite                every scenario for countersign and ast-grep, markdown table (run.sh)
  gen                  write a generated document to stdout

Only the Python 3.11 standard library is used. Linux only (/proc for CPU time and memory).
"""

from __future__ import annotations

import argparse
import json
import keyword
import os
import queue
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


class HarnessError(Exception):
    """The measurement itself broke: crash, protocol error, no diagnostics at all."""


# --- generated documents -------------------------------------------------------------------------

WORDS = (
    "user account invoice item price total count amount label path record batch queue "
    "config client session cache result payload token report entry buffer node parent child "
    "quota cursor status event handler source target shipment ledger"
).split()
# Words that are no SQL keyword, so generated SQL stays valid. Non-ASCII text in strings and comments, so that utf-16 and utf-8 columns differ (the emoji
# is two UTF-16 code units).
UNICODE_BITS = ("café", "naïve", "→", "größe", "日本", "😀")


def ident(rng: random.Random, parts: int = 2) -> str:
    return "_".join(rng.choice(WORDS) for _ in range(parts))


def py_risky(rng: random.Random, indent: str) -> list[str]:
    var = ident(rng, 1)
    return [
        rng.choice(
            (
                f"{indent}shutil.rmtree({var}_dir)",
                f'{indent}os.system("rm -rf " + {var}_dir)',
                f"{indent}resp = requests.get({var}_url, verify=False)",
                f'{indent}subprocess.run(["rm", "-rf", {var}_dir], check=True)',
            )
        )
    ]


def py_statement(rng: random.Random, indent: str) -> list[str]:
    a, b, c = ident(rng), ident(rng, 1), ident(rng, 1)
    kind = rng.randrange(9)
    if kind == 0:
        return [f"{indent}{a} = {b} + {rng.randrange(1000)}"]
    if kind == 1:
        return [f'{indent}{a} = "{rng.choice(WORDS)} {rng.choice(UNICODE_BITS)} {rng.choice(WORDS)}"']
    if kind == 2:
        return [f"{indent}if {b} > {rng.randrange(100)}:", f"{indent}    {a} = {c} * 2"]
    if kind == 3:
        return [f"{indent}for {b} in {c}s:", f"{indent}    {a}.append({b})"]
    if kind == 4:
        return [f"{indent}# {rng.choice(WORDS)} {rng.choice(UNICODE_BITS)} {rng.choice(WORDS)}"]
    if kind == 5:
        return [f"{indent}{a} = {{'{b}': {c}, 'n': {rng.randrange(50)}}}"]
    if kind == 6:
        return [f"{indent}logger.info('%s {rng.choice(WORDS)}', {b})"]
    if kind == 7:
        return [f"{indent}try:", f"{indent}    {a} = int({b})", f"{indent}except ValueError:", f"{indent}    {a} = 0"]
    return [f"{indent}{a} = [{b} for {b} in {c} if {b}]"]


def py_function(rng: random.Random, indent: str, risky: float) -> list[str]:
    args = ", ".join(ident(rng, 1) for _ in range(rng.randrange(1, 4)))
    if indent:
        args = "self, " + args
    out = [f"{indent}def {ident(rng)}_{rng.randrange(10**4)}({args}):"]
    body = indent + "    "
    out.append(f'{body}"""{rng.choice(WORDS).capitalize()} the {rng.choice(WORDS)}."""')
    for _ in range(rng.randrange(2, 9)):
        out += py_statement(rng, body)
    if rng.random() < risky:
        out += py_risky(rng, body)
    out.append(f"{body}return {ident(rng, 1)}")
    return out


def py_block(rng: random.Random, risky: float) -> list[str]:
    """One top-level definition followed by two blank lines."""
    if rng.random() < 0.25:
        out = [f"class {ident(rng).title().replace('_', '')}{rng.randrange(10**4)}:"]
        out.append(f'    """{rng.choice(WORDS).capitalize()} store."""')
        out.append("")
        for _ in range(rng.randrange(1, 4)):
            out += py_function(rng, "    ", risky)
            out.append("")
        out.pop()
    else:
        out = py_function(rng, "", risky)
    return out + ["", ""]


PY_HEADER = [
    '"""Generated module for editor latency measurements."""',
    "import logging",
    "import os",
    "import shutil",
    "import subprocess",
    "",
    "import requests",
    "",
    "logger = logging.getLogger(__name__)",
    "",
    "",
]


def sql_statement(rng: random.Random, risky: float) -> list[str]:
    t, u = ident(rng), ident(rng)
    if rng.random() < risky:
        return [
            rng.choice(
                (
                    f"DROP TABLE {t};",
                    f"TRUNCATE TABLE {t};",
                    f"DELETE FROM {t};",
                    f"ALTER TABLE {t} DROP COLUMN {ident(rng, 1)};",
                )
            ),
            "",
        ]
    kind = rng.randrange(5)
    if kind == 0:
        cols = [f"    {ident(rng, 1)}_{i} {rng.choice(('INTEGER', 'TEXT', 'BIGINT', 'TIMESTAMP'))}," for i in range(rng.randrange(2, 8))]
        cols[-1] = cols[-1].rstrip(",")
        return [f"CREATE TABLE {t} (", "    id BIGINT PRIMARY KEY,", *cols, ");", ""]
    if kind == 1:
        return [
            f"INSERT INTO {t} (id, {ident(rng, 1)}, note)",
            f"VALUES ({rng.randrange(10**5)}, {rng.randrange(100)}, '{rng.choice(WORDS)} {rng.choice(UNICODE_BITS)}');",
            "",
        ]
    if kind == 2:
        return [
            f"SELECT a.id, a.{ident(rng, 1)}, b.{ident(rng, 1)}",
            f"FROM {t} AS a",
            f"JOIN {u} AS b ON b.{t}_id = a.id",
            f"WHERE a.{ident(rng, 1)} > {rng.randrange(100)}",
            f"ORDER BY a.id LIMIT {rng.randrange(1, 500)};",
            "",
        ]
    if kind == 3:
        return [f"-- {rng.choice(WORDS)} {rng.choice(UNICODE_BITS)} {rng.choice(WORDS)}", f"UPDATE {t} SET {ident(rng, 1)} = {rng.randrange(9)} WHERE id = {rng.randrange(10**5)};", ""]
    return [f"DELETE FROM {t} WHERE {ident(rng, 1)} < {rng.randrange(1000)};", ""]


def gen_lines(language: str, n_lines: int, rng: random.Random, risky: float, header: bool = True) -> list[str]:
    """Exactly n_lines lines of valid code, cut at a definition/statement boundary and padded
    with comment lines."""
    out = list(PY_HEADER) if (header and language == "python") else []
    comment = "#" if language == "python" else "--"
    while True:
        block = py_block(rng, risky) if language == "python" else sql_statement(rng, risky)
        if len(out) + len(block) > n_lines:
            break
        out += block
    while len(out) < n_lines:
        out.append(f"{comment} {rng.choice(WORDS)} {rng.choice(WORDS)}")
    return out


def gen_document(language: str, n_lines: int, seed: int) -> list[str]:
    # ~1 risky call per 40 functions / statements: a realistic density that still gives every
    # server findings to publish.
    rng = random.Random(seed)
    return gen_lines(language, n_lines, rng, risky=0.03)


# --- edit scripts --------------------------------------------------------------------------------


@dataclass
class Edit:
    """Replace [start, end) of one line with text (codepoint columns), or insert whole lines."""

    line: int
    start: int
    end: int
    text: str
    new_lines: list[str] | None = None  # paste: lines inserted before `line`


def is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def string_spans(line: str) -> list[tuple[int, int]]:
    """Columns of the contents of quoted strings on one line (no escapes in generated code)."""
    spans, i = [], 0
    while i < len(line):
        q = line[i]
        if q in "'\"":
            j = line.find(q, i + 1)
            if j < 0:
                break
            if j > i + 1:
                spans.append((i + 1, j))
            i = j + 1
        elif q == "#" or line.startswith("--", i):
            break
        else:
            i += 1
    return spans


def word_at(line: str, c: int) -> str:
    a = c
    while a > 0 and is_word(line[a - 1]):
        a -= 1
    b = c
    while b < len(line) and is_word(line[b]):
        b += 1
    return line[a:b]


def is_keyword(word: str) -> bool:
    # Numbers, Python keywords, and SQL's, which the generated SQL writes in capitals. Breaking one turns
    # the file into a syntax error, and a session of hundreds of edits would end up mostly
    # error nodes, which is not what editing looks like.
    return keyword.iskeyword(word) or word[:1].isdigit() or (word.isupper() and len(word) > 1)


def single_char_edit(lines: list[str], rng: random.Random) -> Edit:
    """Insert or delete one character, mostly inside an identifier, a string or whitespace, so
    the document stays mostly valid."""
    for _ in range(1000):
        n = rng.randrange(len(lines))
        line = lines[n]
        if not line.strip():
            continue
        kind = rng.random()
        if kind < 0.65:  # identifier interior
            cols = [c for c in range(1, len(line)) if is_word(line[c - 1]) and is_word(line[c]) and not is_keyword(word_at(line, c))]
            if not cols:
                continue
            c = rng.choice(cols)
            if rng.random() < 0.5:
                return Edit(n, c, c, rng.choice("abcdefghijklmnopqrstuvwxyz_"))
            if c + 1 < len(line) and is_word(line[c + 1]):
                return Edit(n, c, c + 1, "")
            return Edit(n, c, c, rng.choice("etaoinsr"))
        if kind < 0.85:  # string contents
            spans = string_spans(line)
            if not spans:
                continue
            a, b = rng.choice(spans)
            if rng.random() < 0.5 or b - a < 2:
                c = rng.randrange(a, b + 1)
                return Edit(n, c, c, rng.choice("abcxyz é"))
            c = rng.randrange(a, b)
            return Edit(n, c, c + 1, "")
        # whitespace between tokens (never indentation, which Python reads)
        lead = len(line) - len(line.lstrip(" "))
        cols = [c for c in range(lead + 1, len(line)) if line[c] == " "]
        if not cols:
            continue
        c = rng.choice(cols)
        if line[c - 1] == " " and rng.random() < 0.7:
            return Edit(n, c, c + 1, "")
        return Edit(n, c, c, " ")
    raise HarnessError("could not find a place for a single-character edit")


def paste_edit(lines: list[str], rng: random.Random, language: str, chunk: int) -> Edit:
    """Insert `chunk` lines of generated code at the start of a random top-level statement."""
    if language == "python":
        starts = [i for i, l in enumerate(lines) if l.startswith(("def ", "class ")) and (i == 0 or not lines[i - 1])]
    else:
        starts = [i for i, l in enumerate(lines) if l and (i == 0 or not lines[i - 1])]
    at = rng.choice(starts) if starts else len(lines)
    # Pasted code carries risky calls more often than the file: it is what the reviewer of an
    # AI paste looks at.
    new = gen_lines(language, chunk, rng, risky=0.3, header=False)
    return Edit(at, 0, 0, "\n".join(new) + "\n", new_lines=new)


def apply_edit(lines: list[str], e: Edit) -> None:
    if e.new_lines is not None:
        lines[e.line : e.line] = e.new_lines
    else:
        s = lines[e.line]
        lines[e.line] = s[: e.start] + e.text + s[e.end :]


def make_script(lines: list[str], script: str, edits: int, seed: int, language: str) -> list[Edit]:
    """The edit list, generated against a copy of the document so every server gets the same."""
    rng = random.Random(seed)
    doc = list(lines)
    out = []
    for _ in range(edits):
        e = single_char_edit(doc, rng) if script == "single" else paste_edit(doc, rng, language, 50)
        apply_edit(doc, e)
        out.append(e)
    return out


def units(s: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(s.encode("utf-8"))
    if encoding == "utf-32":
        return len(s)
    return len(s.encode("utf-16-le")) // 2


# --- the LSP client ------------------------------------------------------------------------------


def proc_tree(pid: int) -> list[int]:
    """pid and its descendants (a launcher script may run the real server as a child)."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def cpu_seconds(pid: int) -> float:
    total = 0
    for p in proc_tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLK_TCK


def status_kib(pid: int, key: str) -> int:
    """Sum of a /proc/<pid>/status field (VmHWM, VmRSS) over the process tree, in KiB."""
    total = 0
    for p in proc_tree(pid):
        try:
            for row in Path(f"/proc/{p}/status").read_text().splitlines():
                if row.startswith(key + ":"):
                    total += int(row.split()[1])
        except OSError:
            continue
    return total


class Server:
    def __init__(self, cmd: list[str], cwd: Path, stderr_path: Path):
        self.stderr = open(stderr_path, "ab")
        self.t_spawn = time.perf_counter()
        self.proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr)
        self.inbox: queue.Queue = queue.Queue()
        self.wlock = threading.Lock()
        self.next_id = 0
        self.protocol_errors: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self) -> None:
        out = self.proc.stdout
        try:
            while True:
                length = None
                while True:
                    line = out.readline()
                    if not line:
                        self.inbox.put((time.perf_counter(), None))
                        return
                    line = line.strip()
                    if not line:
                        break
                    k, _, v = line.decode("ascii").partition(":")
                    if k.lower() == "content-length":
                        length = int(v)
                if length is None:
                    self.protocol_errors.append("message without Content-Length")
                    continue
                body = out.read(length)
                t = time.perf_counter()
                msg = json.loads(body)
                if "method" in msg and "id" in msg:
                    self._answer(msg)
                self.inbox.put((t, msg))
        except Exception as e:  # the reader must report, not die silently
            self.protocol_errors.append(f"reading the server's output: {e!r}")
            self.inbox.put((time.perf_counter(), None))

    def _answer(self, msg: dict) -> None:
        """Server -> client requests get the answer a plain editor gives."""
        result = None
        if msg["method"] == "workspace/configuration":
            result = [None for _ in msg.get("params", {}).get("items", [])]
        elif msg["method"] == "workspace/workspaceFolders":
            result = []
        self.send({"jsonrpc": "2.0", "id": msg["id"], "result": result})

    def send(self, msg: dict) -> None:
        body = json.dumps(msg, ensure_ascii=False).encode("utf-8")
        with self.wlock:
            self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.proc.stdin.flush()

    def notify(self, method: str, params: dict) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params, timeout: float = 30.0) -> tuple[dict, float]:
        self.next_id += 1
        rid = self.next_id
        self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        deadline = time.perf_counter() + timeout
        while True:
            t, msg = self.get(deadline)
            if msg is None and t is None:
                raise HarnessError(f"no answer to {method} within {timeout:.0f} s")
            if msg.get("id") == rid and "method" not in msg:
                if "error" in msg:
                    raise HarnessError(f"{method} failed: {msg['error']}")
                return msg.get("result"), t

    def get(self, deadline: float):
        """Next message before the deadline: (time, msg), or (None, None) on timeout. A closed
        stream raises: the server is gone."""
        left = deadline - time.perf_counter()
        if left <= 0:
            return None, None
        try:
            t, msg = self.inbox.get(timeout=left)
        except queue.Empty:
            return None, None
        if msg is None:
            if self.protocol_errors:
                raise HarnessError("; ".join(self.protocol_errors[:3]))
            try:
                code = self.proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                code = None
            raise HarnessError(f"the server closed its output (exit status {code}); see its stderr log")
        return t, msg

    def initialize(self, root: Path, utf8: bool) -> tuple[dict, float]:
        encodings = ["utf-8", "utf-16"] if utf8 else ["utf-16"]
        uri = root.as_uri()
        params = {
            "processId": os.getpid(),
            "clientInfo": {"name": "lsp-latency", "version": "1"},
            "rootUri": uri,
            "rootPath": str(root),
            "workspaceFolders": [{"uri": uri, "name": root.name}],
            "capabilities": {
                "general": {"positionEncodings": encodings},
                "textDocument": {
                    "synchronization": {"didSave": True, "dynamicRegistration": False},
                    "publishDiagnostics": {"relatedInformation": True, "versionSupport": True, "codeDescriptionSupport": True, "dataSupport": True},
                    "codeAction": {"codeActionLiteralSupport": {"codeActionKind": {"valueSet": ["quickfix"]}}},
                    "hover": {"contentFormat": ["markdown", "plaintext"]},
                },
                "workspace": {"configuration": True, "workspaceFolders": True},
                "window": {"workDoneProgress": False},
            },
        }
        result, t = self.request("initialize", params)
        self.notify("initialized", {})
        return result, t - self.t_spawn

    def close(self) -> int | None:
        """shutdown + exit; returns the exit status (None if it had to be killed)."""
        try:
            if self.proc.poll() is None:
                self.request("shutdown", None, timeout=10)
                self.notify("exit", None)
            code = self.proc.wait(timeout=10)
        except (HarnessError, OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
            code = None
        self.stderr.close()
        return code


# --- one measured run ----------------------------------------------------------------------------


def percentile(xs: list[float], p: float) -> float | None:
    if not xs:
        return None
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, int(-(-p * len(s) // 100)) - 1))]  # nearest rank


@dataclass
class Run:
    server: str
    file: str
    script: str
    edits: int
    encoding: str = ""
    sync: str = ""
    match: str = ""
    open_ms: float | None = None
    latencies_ms: list[float] = field(default_factory=list)
    timeouts: list[int] = field(default_factory=list)
    cpu_s: float = 0.0
    peak_rss_kib: int = 0
    diagnostics_last: int | None = None
    stale: list[dict] = field(default_factory=list)  # publishes for an older version
    unsent_versions: list[int] = field(default_factory=list)  # versions the client never sent
    out_of_order: list[dict] = field(default_factory=list)
    bad_ranges: list[dict] = field(default_factory=list)
    published: list[int] = field(default_factory=list)  # every versioned publish, in order
    exit_status: int | None = None
    wall_s: float = 0.0

    def summary(self) -> dict:
        d = dict(self.__dict__)
        lat = self.latencies_ms
        d.update(
            p50=percentile(lat, 50),
            p95=percentile(lat, 95),
            p99=percentile(lat, 99),
            max=max(lat) if lat else None,
            cpu_ms_per_edit=1000 * self.cpu_s / self.edits if self.edits else None,
            peak_rss_mib=self.peak_rss_kib / 1024,
            n_timeouts=len(self.timeouts),
        )
        return d


def check_ranges(lines: list[str], diags: list[dict], encoding: str, version, out: list[dict]) -> None:
    """Every diagnostic range must lie inside the document the publish claims to describe."""
    for d in diags:
        for end in ("start", "end"):
            pos = d["range"][end]
            ln, ch = pos["line"], pos["character"]
            if ln > len(lines) or (ln < len(lines) and ch > units(lines[ln], encoding)) or (ln == len(lines) and ch > 0):
                if len(out) < 20:
                    out.append({"version": version, "range": d["range"], "code": d.get("code"), "lines": len(lines)})
                break


def measure(
    cmd: list[str],
    name: str,
    workspace: Path,
    doc_path: Path,
    language: str,
    lines: list[str],
    script: list[Edit],
    script_name: str,
    utf8: bool,
    timeout: float,
    log_dir: Path,
    open_timeout: float = 120.0,
    burst: bool = False,
) -> Run:
    """Closed loop by default. burst=True sends every edit at once, then waits for the last
    version's diagnostics: the server may skip versions it never analysed, but must publish the
    last one, and never an older one after a newer one."""
    run = Run(server=name, file=doc_path.name, script=script_name, edits=len(script))
    log_dir.mkdir(parents=True, exist_ok=True)
    srv = Server(cmd, workspace, log_dir / f"{name}-{doc_path.stem}-{script_name}.stderr.log")
    t_start = time.perf_counter()
    try:
        init, _ = srv.initialize(workspace, utf8)
        caps = init.get("capabilities", {})
        encoding = caps.get("positionEncoding", "utf-16")
        run.encoding = encoding
        sync = caps.get("textDocumentSync", 0)
        sync_kind = sync.get("change", 0) if isinstance(sync, dict) else sync
        if sync_kind not in (1, 2):
            raise HarnessError(f"the server does not accept document changes (textDocumentSync {sync!r})")
        run.sync = "incremental" if sync_kind == 2 else "full"
        uri = doc_path.as_uri()
        doc = list(lines)
        text = "\n".join(doc) + "\n"
        version = 1
        sent: set[int] = {1}
        last_version_seen = None
        publishes = 0
        unversioned = 0

        def wait_publish(v: int, t0: float, limit: float):
            """Seconds from t0 to the publish answering version v, or None on timeout."""
            nonlocal last_version_seen, publishes, unversioned
            deadline = time.perf_counter() + limit
            while True:
                t, msg = srv.get(deadline)
                if msg is None:
                    return None
                if msg.get("method") != "textDocument/publishDiagnostics":
                    if "error" in msg and "id" in msg:
                        srv.protocol_errors.append(f"error response: {msg['error']}")
                    continue
                p = msg["params"]
                if p.get("uri") != uri:
                    continue
                publishes += 1
                pv = p.get("version")
                if pv is None:
                    unversioned += 1
                    if v == version and t >= t0:
                        check_ranges(doc, p["diagnostics"], encoding, None, run.bad_ranges)
                        run.diagnostics_last = len(p["diagnostics"])
                        return t - t0
                    continue
                run.published.append(pv)
                if pv not in sent:
                    run.unsent_versions.append(pv)
                    raise HarnessError(f"publishDiagnostics for version {pv}, which was never sent (last sent: {version})")
                if last_version_seen is not None and pv < last_version_seen:
                    run.out_of_order.append({"after": last_version_seen, "got": pv})
                last_version_seen = pv if last_version_seen is None else max(last_version_seen, pv)
                if pv == v:
                    check_ranges(doc, p["diagnostics"], encoding, pv, run.bad_ranges)
                    run.diagnostics_last = len(p["diagnostics"])
                    return t - t0
                if pv < v and not burst:
                    run.stale.append({"waiting_for": v, "got": pv})

        t0 = time.perf_counter()
        srv.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": language, "version": version, "text": text}})
        dt = wait_publish(version, t0, open_timeout)
        if dt is None:
            raise HarnessError(f"no diagnostics for the opened document within {open_timeout:.0f} s")
        run.open_ms = dt * 1000
        # Let any start-up work (workspace scans, status notifications) finish outside the timing.
        quiet_until = time.perf_counter() + 0.3
        while srv.get(quiet_until)[1] is not None:
            quiet_until = time.perf_counter() + 0.3

        cpu0 = cpu_seconds(srv.pid)
        for e in script:
            version += 1
            if run.sync == "incremental":
                if e.new_lines is None:
                    # Columns count in the line as it is before the edit.
                    s = doc[e.line]
                    start = {"line": e.line, "character": units(s[: e.start], encoding)}
                    end = {"line": e.line, "character": units(s[: e.end], encoding)}
                else:
                    start = end = {"line": e.line, "character": 0}
                change = {"range": {"start": start, "end": end}, "text": e.text}
                apply_edit(doc, e)
            else:
                apply_edit(doc, e)
                change = {"text": "\n".join(doc) + "\n"}
            msg = {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}
            sent.add(version)
            t0 = time.perf_counter()
            srv.notify("textDocument/didChange", msg)
            if burst:
                continue
            dt = wait_publish(version, t0, timeout)
            if dt is None:
                run.timeouts.append(version)
                if len(run.timeouts) >= 5 and run.timeouts[-5] == version - 4:
                    raise HarnessError(f"5 edits in a row got no diagnostics (versions {run.timeouts[-5:]}): the server stopped publishing")
            else:
                run.latencies_ms.append(dt * 1000)
        if burst:
            # One figure: last didChange written -> that version's diagnostics.
            dt = wait_publish(version, t0, timeout * 3)
            if dt is None:
                run.timeouts.append(version)
            else:
                run.latencies_ms.append(dt * 1000)
        run.cpu_s = cpu_seconds(srv.pid) - cpu0
        run.peak_rss_kib = status_kib(srv.pid, "VmHWM")
        run.match = "version" if unversioned == 0 else ("first publish after didChange (no version)" if unversioned == publishes else "mixed")
        if srv.protocol_errors:
            raise HarnessError("; ".join(srv.protocol_errors[:5]))
    finally:
        run.exit_status = srv.close()
        run.wall_s = time.perf_counter() - t_start
    return run



# --- start-up time and document memory -----------------------------------------------------------


def startup_ms(cmd: list[str], workspace: Path, utf8: bool, log: Path) -> float:
    srv = Server(cmd, workspace, log)
    try:
        _, dt = srv.initialize(workspace, utf8)
    finally:
        code = srv.close()
    if code not in (0, None):
        raise HarnessError(f"{cmd[0]} exited with status {code} after shutdown")
    return dt * 1000


def docmem_kib(cmd: list[str], workspace: Path, text: str, utf8: bool, log: Path, timeout: float) -> dict:
    """RSS before and after opening one big document. A small document is opened first so the
    figure is the document's own cost, not the first parse's one-time set-up; both are kept."""
    srv = Server(cmd, workspace, log)

    def settle_rss() -> int:
        end = time.perf_counter() + 0.3
        while srv.get(end)[1] is not None:
            pass
        return status_kib(srv.pid, "VmRSS")

    def open_and_wait(name: str, body: str) -> None:
        uri = (workspace / name).as_uri()
        srv.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": body}})
        deadline = time.perf_counter() + timeout
        while True:
            _, msg = srv.get(deadline)
            if msg is None:
                raise HarnessError(f"no diagnostics for {name} within {timeout:.0f} s")
            if msg.get("method") == "textDocument/publishDiagnostics" and msg["params"]["uri"] == uri:
                return

    try:
        srv.initialize(workspace, utf8)
        rss0 = settle_rss()
        open_and_wait("small.py", "import shutil\nshutil.rmtree(p)\n")
        rss1 = settle_rss()
        open_and_wait("big.py", text)
        rss2 = settle_rss()
    finally:
        srv.close()
    return {"before": rss0, "after_small": rss1, "after_big": rss2, "doc": rss2 - rss1, "with_setup": rss2 - rss0}


def null_server() -> int:
    """A server that answers every document version at once with no diagnostics: run through
    the same harness it gives the measurement floor (client, pipes, scheduling on this machine)."""
    inp, out = sys.stdin.buffer, sys.stdout.buffer

    def send(msg: dict) -> None:
        body = json.dumps(msg).encode()
        out.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        out.flush()

    while True:
        length = 0
        while True:
            line = inp.readline()
            if not line:
                return 0
            if not line.strip():
                break
            k, _, v = line.decode("ascii").partition(":")
            if k.lower() == "content-length":
                length = int(v)
        msg = json.loads(inp.read(length))
        method = msg.get("method")
        if method == "initialize":
            send({"jsonrpc": "2.0", "id": msg["id"], "result": {"capabilities": {"textDocumentSync": 2}}})
        elif method == "shutdown":
            send({"jsonrpc": "2.0", "id": msg["id"], "result": None})
        elif method == "exit":
            return 0
        elif method in ("textDocument/didOpen", "textDocument/didChange"):
            doc = msg["params"]["textDocument"]
            send({"jsonrpc": "2.0", "method": "textDocument/publishDiagnostics", "params": {"uri": doc["uri"], "version": doc["version"], "diagnostics": []}})
        elif "id" in msg:
            send({"jsonrpc": "2.0", "id": msg["id"], "result": None})


# --- the suite -----------------------------------------------------------------------------------


def git_workspace(path: Path, files: dict[str, str]) -> None:
    path.mkdir(parents=True)
    for name, text in files.items():
        (path / name).write_text(text, encoding="utf-8")
    git = ["git", "-c", "user.name=Latency", "-c", "user.email=latency@example.invalid", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    subprocess.run([*git, "-C", str(path), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(path), "commit", "-q", "--allow-empty", "-m", "base"], check=True)


def sg_workspace(path: Path, rules: Path, files: dict[str, str]) -> None:
    path.mkdir(parents=True)
    shutil.copytree(rules, path / "rules" / rules.name)
    (path / "sgconfig.yml").write_text("ruleDirs:\n  - rules\n")
    for name, text in files.items():
        (path / name).write_text(text, encoding="utf-8")


def fmt(x, digits: int = 1) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def uptime() -> str:
    return ", ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine() -> str:
    model = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name")), "?")
    mem = next((l.split()[1] for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")), "0")
    return f"{os.cpu_count()} CPUs ({model}), {int(mem) / 2**20:.0f} GiB RAM, Python {sys.version.split()[0]}"


def version_of(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


def run_suite(a: argparse.Namespace) -> int:
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    logs = out / "logs"
    tmp = Path(tempfile.mkdtemp(prefix="lsp-latency-"))
    servers = [("countersign", [a.countersign, "lsp"])]
    if a.ast_grep and not a.quick:
        servers.append(("ast-grep", [a.ast_grep, "lsp", "-c", "sgconfig.yml"]))
    if a.quick:
        # No 1 MB document: it is a figure, not a check, and takes seconds with a debug build.
        sizes, counts, starts, docmem_runs = [10_000], {"single": 20, "paste": 5}, 3, 0
    else:
        sizes, counts, starts, docmem_runs = [10_000, 100_000], {"single": a.single_edits, "paste": a.pastes}, 10, 3
    load_before = uptime()
    header = [
        f"- Date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
        f"- Machine: {machine()}",
        f"- Load average (1, 5, 15 min) before: {load_before}",
        f"- countersign: {version_of([a.countersign, '--version'])} ({a.countersign})",
    ]
    if len(servers) > 1:
        header.append(f"- ast-grep: {version_of([a.ast_grep, '--version'])} ({a.ast_grep})")
    header.append(f"- Position encoding offered: {'utf-8, utf-16' if a.utf8 else 'utf-16'}; per-edit timeout {a.timeout:g} s; seed {a.seed}")
    print("\n".join(header), file=sys.stderr)

    failures: list[str] = []
    runs: list[dict] = []

    def fail(msg: str) -> None:
        failures.append(msg)
        print(f"FAIL: {msg}", file=sys.stderr)

    scenarios = []
    for language in ("python", "sql"):
        for size in sizes:
            for script in ("single", "paste"):
                scenarios.append((language, size, script))
    docs: dict[tuple[str, int], list[str]] = {}
    startup: dict[str, list[float]] = {s: [] for s, _ in servers}
    docmem: dict[str, list[dict]] = {s: [] for s, _ in servers}
    bursts: list[dict] = []
    try:
        for i, (language, size, script) in enumerate(scenarios):
            key = (language, size)
            if key not in docs:
                docs[key] = gen_document(language, size, a.seed + zlib.crc32(f"{language}{size}".encode()))
            lines = docs[key]
            ext = "py" if language == "python" else "sql"
            name = f"gen_{size // 1000}k.{ext}"
            edits = make_script(lines, script, counts[script], a.seed + zlib.crc32(f"{language}{size}{script}".encode()), language)
            order = servers if i % 2 == 0 else servers[::-1]
            if i == 0:
                order = [("null-server", [sys.executable, str(Path(__file__).resolve()), "null-server"]), *order]
            for sname, cmd in order:
                if sname != "countersign" and language != "python":
                    continue  # ast-grep has no SQL grammar
                ws = tmp / f"{sname}-{i}"
                files = {name: "\n".join(lines) + "\n"}
                if sname == "ast-grep":
                    sg_workspace(ws, Path(a.ast_grep_rules), files)
                else:
                    git_workspace(ws, files)
                label = f"{sname} {name} {script} x{len(edits)}"
                print(f"==> {label}", file=sys.stderr)
                try:
                    r = measure(cmd, sname, ws, ws / name, language, lines, edits, script, a.utf8, a.timeout, logs, 30.0 if a.quick else 120.0)
                except HarnessError as e:
                    fail(f"{label}: {e}")
                    if a.quick:
                        raise
                    continue
                s = r.summary()
                runs.append(s)
                print(
                    f"    p50 {fmt(s['p50'], 2)} ms, p99 {fmt(s['p99'], 2)} ms, max {fmt(s['max'], 2)} ms, "
                    f"timeouts {s['n_timeouts']}, open {fmt(s['open_ms'])} ms, {r.wall_s:.1f} s",
                    file=sys.stderr,
                )
                if r.exit_status != 0:
                    fail(f"{label}: the server exited with status {r.exit_status} after shutdown (None: killed)")
                if not r.latencies_ms:
                    fail(f"{label}: no diagnostics arrived for any edit")
                if r.unsent_versions:
                    fail(f"{label}: publishes for versions never sent: {sorted(set(r.unsent_versions))[:10]}")
                if r.bad_ranges:
                    fail(f"{label}: diagnostic ranges outside the document: {r.bad_ranges[:3]}")
                if sname == "countersign" and r.match != "version":
                    fail(f"{label}: countersign published diagnostics without the document version")
                if r.timeouts:
                    print(f"    WARNING: no diagnostics for versions {r.timeouts[:20]}", file=sys.stderr)
                if r.stale or r.out_of_order:
                    print(f"    WARNING: {len(r.stale)} stale publishes, {len(r.out_of_order)} out of order", file=sys.stderr)

        # Bursts: edits typed faster than the server answers.
        lines = docs[("python", 10_000)]
        edits = make_script(lines, "single", 50, a.seed + 7, "python")
        for sname, cmd in servers:
            ws = tmp / f"{sname}-burst"
            files = {"gen_10k.py": "\n".join(lines) + "\n"}
            if sname == "ast-grep":
                sg_workspace(ws, Path(a.ast_grep_rules), files)
            else:
                git_workspace(ws, files)
            label = f"{sname} gen_10k.py burst x{len(edits)}"
            print(f"==> {label}", file=sys.stderr)
            try:
                r = measure(cmd, sname, ws, ws / "gen_10k.py", "python", lines, edits, "burst", a.utf8, a.timeout, logs, 30.0 if a.quick else 120.0, burst=True)
            except HarnessError as e:
                fail(f"{label}: {e}")
                if a.quick:
                    raise
                continue
            bursts.append(r.summary())
            if r.timeouts:
                fail(f"{label}: the last version was never published")
            if r.exit_status != 0:
                fail(f"{label}: the server exited with status {r.exit_status} after shutdown (None: killed)")

        # Start-up: spawn -> initialize response, alternating servers.
        for s, _ in servers:
            ws = tmp / f"{s}-startup"
            if s == "ast-grep":
                sg_workspace(ws, Path(a.ast_grep_rules), {})
            else:
                git_workspace(ws, {})
        print(f"==> startup x{starts}", file=sys.stderr)
        try:
            for n in range(starts):
                for s, cmd in servers if n % 2 == 0 else servers[::-1]:
                    startup[s].append(startup_ms(cmd, tmp / f"{s}-startup", a.utf8, logs / f"{s}-startup.stderr.log"))
        except HarnessError as e:
            fail(f"startup: {e}")
            if a.quick:
                raise

        # Memory of an open ~1 MB Python document.
        big = "\n".join(gen_lines("python", 40_000, random.Random(a.seed), risky=0.03))
        big = big[: big.rfind("\n", 0, 1_000_000)] + "\n"
        if docmem_runs:
            print(f"==> 1 MB document x{docmem_runs}", file=sys.stderr)
        try:
            for n in range(docmem_runs):
                for s, cmd in servers:
                    ws = tmp / f"{s}-docmem-{n}"
                    if s == "ast-grep":
                        sg_workspace(ws, Path(a.ast_grep_rules), {})
                    else:
                        git_workspace(ws, {})
                    docmem[s].append(docmem_kib(cmd, ws, big, a.utf8, logs / f"{s}-docmem.stderr.log", 120))
        except HarnessError as e:
            fail(f"1 MB document: {e}")
    except HarnessError:
        pass  # --quick stops at the first broken measurement; it is in `failures`
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    load_after = uptime()
    # --- report ---
    md = ["# LSP edit -> diagnostics latency", "", *header, f"- Load average after: {load_after}", ""]
    md += [
        "| Server | File | Script | Edits | p50 ms | p95 ms | p99 ms | max ms | CPU ms/edit | Peak RSS MiB | Timeouts | Open ms | Sync | Matched by |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for s in runs:
        md.append(
            f"| {s['server']} | {s['file']} | {s['script']} | {s['edits']} | {fmt(s['p50'], 2)} | {fmt(s['p95'], 2)} | "
            f"{fmt(s['p99'], 2)} | {fmt(s['max'], 2)} | {fmt(s['cpu_ms_per_edit'], 2)} | {fmt(s['peak_rss_mib'])} | "
            f"{s['n_timeouts']} | {fmt(s['open_ms'])} | {s['sync']} | {s['match']} |"
        )
    md += [
        "",
        "| Server | File | Edits sent at once | Versions published (of edits + open) | Last version published | Last edit → its diagnostics ms | Out of order |",
        "|---|---|---:|---:|---|---:|---:|",
    ]
    for s in bursts:
        last = s["edits"] + 1
        md.append(
            f"| {s['server']} | {s['file']} | {s['edits']} | {len(set(s['published']))} | {'yes' if last in s['published'] else 'NO'} | "
            f"{fmt(s['p50'])} | {len(s['out_of_order'])} |"
        )
    md += ["", "| Server | Startup to `initialize` response, median ms | min–max ms | starts |", "|---|---:|---:|---:|"]
    for s, xs in startup.items():
        if xs:
            md.append(f"| {s} | {statistics.median(xs):.1f} | {min(xs):.1f}–{max(xs):.1f} | {len(xs)} |")
    if any(docmem.values()):
        md += ["", "| Server | Open ~1 MB Python document: RSS increase, median MiB | incl. first-parse set-up MiB | RSS after MiB | runs |", "|---|---:|---:|---:|---:|"]
    for s, xs in docmem.items():
        if xs:
            md.append(
                f"| {s} | {statistics.median(x['doc'] for x in xs) / 1024:.1f} | {statistics.median(x['with_setup'] for x in xs) / 1024:.1f} | "
                f"{statistics.median(x['after_big'] for x in xs) / 1024:.1f} | {len(xs)} |"
            )
    # Targets (reported, never asserted).
    cs = [s for s in runs if s["server"] == "countersign" and s["p99"] is not None]
    md += ["", "Countersign targets (reported, not asserted):", ""]
    for size, target in ((10_000, 2.0), (100_000, 5.0)):
        xs = [s for s in cs if s["file"].startswith(f"gen_{size // 1000}k.")]
        if xs:
            worst = max(xs, key=lambda s: s["p99"])
            met = "met" if worst["p99"] <= target else "NOT met"
            md.append(f"- p99 ≤ {target:g} ms at {size // 1000}k lines: {met} (worst p99 {worst['p99']:.2f} ms: {worst['file']} {worst['script']})")
    if startup.get("countersign"):
        m = statistics.median(startup["countersign"])
        md.append(f"- startup ≤ 20 ms: {'met' if m <= 20 else 'NOT met'} ({m:.1f} ms)")
    if docmem.get("countersign"):
        m = statistics.median(x["doc"] for x in docmem["countersign"]) / 1024
        md.append(f"- 1 MB document ≤ 10 MB: {'met' if m <= 10 else 'NOT met'} ({m:.1f} MiB)")
    notes = []
    for s in runs:
        if s["stale"] or s["out_of_order"] or s["timeouts"]:
            notes.append(
                f"- {s['server']} {s['file']} {s['script']}: {len(s['stale'])} stale publishes (older version while waiting), "
                f"{len(s['out_of_order'])} out of order, no publish for versions {s['timeouts'][:10]}"
            )
    if notes:
        md += ["", "Protocol observations:", "", *notes]
    if failures:
        md += ["", "Failures:", "", *(f"- {f}" for f in failures)]
    table = "\n".join(md) + "\n"
    (out / "results.md").write_text(table)
    (out / "results.json").write_text(json.dumps({"runs": runs, "bursts": bursts, "startup_ms": startup, "docmem_kib": docmem, "failures": failures}, indent=1))
    print(table)
    print(f"results: {out}", file=sys.stderr)
    return 1 if failures else 0


# --- command line --------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    def common(p):
        p.add_argument("--utf8", action="store_true", help="offer utf-8 positions too (default: utf-16 only)")
        p.add_argument("--seed", type=int, default=1)
        p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for one edit's diagnostics")

    m = sub.add_parser("measure", help="one server, one document, one edit script")
    common(m)
    m.add_argument("--language", choices=("python", "sql"), default="python")
    m.add_argument("--lines", type=int, default=10_000)
    m.add_argument("--script", choices=("single", "paste"), default="single")
    m.add_argument("--edits", type=int, default=200)
    m.add_argument("--workspace", help="folder the server runs in (default: a new git repository)")
    m.add_argument("--name", default="server")
    m.add_argument("--burst", action="store_true", help="send every edit at once, then wait for the last version")
    m.add_argument("--logs", default=".")
    m.add_argument("server", nargs=argparse.REMAINDER, help="-- command line of the server")

    st = sub.add_parser("startup", help="spawn -> initialize response")
    common(st)
    st.add_argument("-n", type=int, default=10)
    st.add_argument("--workspace")
    st.add_argument("server", nargs=argparse.REMAINDER)

    dm = sub.add_parser("docmem", help="RSS cost of an open ~1 MB Python document")
    common(dm)
    dm.add_argument("--workspace")
    dm.add_argument("server", nargs=argparse.REMAINDER)

    su = sub.add_parser("suite", help="all scenarios, countersign and ast-grep, markdown table")
    common(su)
    su.add_argument("--countersign", required=True)
    su.add_argument("--ast-grep", help="ast-grep binary (omit to measure countersign only)")
    su.add_argument("--ast-grep-rules", help="folder of ast-grep rules for Python")
    su.add_argument("--out", required=True)
    su.add_argument("--quick", action="store_true", help="countersign only, 10k lines, 20+5 edits")
    su.add_argument("--single-edits", type=int, default=200)
    su.add_argument("--pastes", type=int, default=50)

    sub.add_parser("null-server", help="an LSP server that publishes nothing at once (the harness floor)")

    g = sub.add_parser("gen", help="print a generated document")
    g.add_argument("--language", choices=("python", "sql"), default="python")
    g.add_argument("--lines", type=int, default=10_000)
    g.add_argument("--seed", type=int, default=1)

    a = ap.parse_args()
    if a.cmd == "null-server":
        return null_server()
    if a.cmd == "gen":
        sys.stdout.write("\n".join(gen_document(a.language, a.lines, a.seed)) + "\n")
        return 0
    if a.cmd == "suite":
        if a.ast_grep and not a.ast_grep_rules:
            ap.error("--ast-grep needs --ast-grep-rules")
        return run_suite(a)

    cmd = a.server[1:] if a.server[:1] == ["--"] else a.server
    if not cmd:
        ap.error("give the server's command line after --")
    own_ws = a.workspace is None
    ws = Path(a.workspace).resolve() if a.workspace else Path(tempfile.mkdtemp(prefix="lsp-latency-")) / "ws"
    try:
        if a.cmd == "startup":
            if own_ws:
                git_workspace(ws, {})
            xs = [startup_ms(cmd, ws, a.utf8, Path(os.devnull)) for _ in range(a.n)]
            print(json.dumps({"median_ms": statistics.median(xs), "all_ms": xs}))
        elif a.cmd == "docmem":
            if own_ws:
                git_workspace(ws, {})
            big = "\n".join(gen_lines("python", 40_000, random.Random(a.seed), risky=0.03))
            big = big[: big.rfind("\n", 0, 1_000_000)] + "\n"
            print(json.dumps(docmem_kib(cmd, ws, big, a.utf8, Path(os.devnull), 120)))
        else:
            lines = gen_document(a.language, a.lines, a.seed)
            name = f"gen_{a.lines}.{'py' if a.language == 'python' else 'sql'}"
            if own_ws:
                git_workspace(ws, {name: "\n".join(lines) + "\n"})
            else:
                (ws / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
            edits = make_script(lines, a.script, a.edits, a.seed + 1, a.language)
            r = measure(cmd, a.name, ws, ws / name, a.language, lines, edits, a.script, a.utf8, a.timeout, Path(a.logs), burst=a.burst)
            print(json.dumps(r.summary()))
            if not r.latencies_ms or r.exit_status != 0:
                return 1
    except HarnessError as e:
        print(f"lsp_latency: {e}", file=sys.stderr)
        return 1
    finally:
        if own_ws:
            shutil.rmtree(ws.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
