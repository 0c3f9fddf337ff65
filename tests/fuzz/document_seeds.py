#!/usr/bin/env python3
"""Writes the seed inputs of the `document_edits` fuzz target.

The target decodes its input with the `arbitrary` crate (1.x): fields are read from the front,
string lengths from the back (one byte each while an input is under 256 bytes), a collection's
elements each follow a `true` byte, and an enum's variant is a little-endian u32 scaled to the
number of variants. `cargo fuzz fmt document_edits FILE` prints what a seed decodes to.
"""
import os
import struct
import sys

LANGS = ["sql", "bash", "python", "javascript", "typescript", "tsx", "go", "rust", "hcl",
         "yaml", "dockerfile"]
VARIANTS = {"range": 0, "full": 1, "bytes": 2}


def encode(lang, utf16, initial, edits):
    front, lengths = bytearray(), []

    def text(s):
        b = s.encode()
        front.extend(b)
        lengths.append(len(b))

    front += bytes([LANGS.index(lang), int(utf16)])
    text(initial)
    for kind, *fields in edits:
        front.append(1)
        front += struct.pack("<I", (VARIANTS[kind] * (1 << 32) + 2) // 3)
        if kind == "range":
            (fl, fc), (tl, tc), new, refresh = fields
            front += struct.pack("<HHHH", fl, fc, tl, tc)
            text(new)
            front.append(int(refresh))
        elif kind == "full":
            new, refresh = fields
            text(new)
            front.append(int(refresh))
        else:
            start, length, new, ai, refresh = fields
            front += struct.pack("<HH", start, length)
            text(new)
            front += bytes([int(ai), int(refresh)])
    front.append(0)
    data = bytes(front) + bytes(reversed(lengths))
    assert len(data) < 256, "lengths take one byte only in inputs under 256 bytes"
    return data


SEEDS = {
    "sql-drop-table": ("sql", False, "BEGIN;\nSELECT 1;\nCOMMIT;\n", [
        ("range", (1, 0), (1, 9), "DROP TABLE users;", True),
        ("range", (2, 0), (2, 0), "DELETE FROM orders;\nTRUNCATE t;\n", False),
        ("bytes", 7, 5, "", False, True),
    ]),
    "bash-rm-rf-utf16": ("bash", True, "# 😀 clean\necho é\n", [
        ("range", (1, 0), (1, 7), 'rm -rf "$DIR/"', True),
        ("range", (0, 3), (0, 2), "x", False),
        ("bytes", 2, 4, "é", True, True),
    ]),
    "python-crlf": ("python", False, "import os\r\nos.remove(p)\r\n", [
        ("range", (1, 3), (1, 99), "system('rm -rf /')", True),
        ("range", (0, 9), (1, 0), "\r", True),
    ]),
    "out-of-range": ("go", True, "package main\n", [
        ("range", (500, 3), (0, 9999), "func main() { os.RemoveAll(\"/\") }\n", True),
        ("range", (1, 65535), (65535, 0), "", True),
        ("bytes", 60000, 60000, "//", False, True),
    ]),
    "full-replacements": ("hcl", False, 'resource "a" "b" {}\n', [
        ("full", 'resource "aws_db_instance" "x" {\n  skip_final_snapshot = true\n}\n', True),
        ("full", "", True),
    ]),
    "yaml-dockerfile-js": ("yaml", False, "a: 1\n", [
        ("range", (0, 3), (0, 4), "production\nb: [x, y]\n", True),
    ]),
}

if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "corpus/document_edits"
    os.makedirs(out, exist_ok=True)
    for name, (lang, utf16, initial, edits) in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(encode(lang, utf16, initial, edits))
