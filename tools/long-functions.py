#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The C functions longer than N lines (head to closing brace), longest first.

  tools/long-functions.py [-n N] [PATH...]     (default: N=80, firstboot/)

A brace-matching scan, not a parser: comments, strings and character literals are blanked out, then a
'{' at depth 0 opens a function when the text before it (since the last ';' or '}' at depth 0) has a
'(' and no '=' (so 'static const struct x t[] = {' is a table, not a function). Exit 1 when one is
listed, 0 otherwise; one line each: LINES FILE:LINE NAME.
"""
import argparse
import os
import re
import sys


def blank(text):
    """text with comments, strings and char literals replaced by spaces (newlines kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r"[^\n]", " ", text[i + 1:j - 1]) + c)
            i = j
        elif c == "#" and (i == 0 or text[i - 1] == "\n"):
            # A preprocessor line (with its continuations) is not code the scan should count braces in.
            j = i
            while True:
                k = text.find("\n", j)
                if k < 0:
                    k = n
                    break
                if text[k - 1] != "\\":
                    break
                j = k + 1
            out.append(re.sub(r"[^\n]", " ", text[i:k]))
            i = k
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions(path):
    """(name, first line, line count) of each function defined in path."""
    with open(path, encoding="utf-8", errors="replace") as f:
        code = blank(f.read())
    depth, head_start, head, found = 0, 0, [], []
    start_line = name = None
    line = 1
    for i, c in enumerate(code):
        if c == "\n":
            line += 1
        if depth == 0:
            if c in ";}":
                head, head_start = [], i + 1
            elif c == "{":
                text = "".join(head)
                m = re.search(r"([A-Za-z_]\w*)\s*\(", text)
                if m and "=" not in text:
                    name = m.group(1)
                    lead = len(text) - len(text.lstrip())
                    start_line = code.count("\n", 0, head_start + lead) + 1
                else:
                    name = None
                depth = 1
            else:
                head.append(c)
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                if name:
                    found.append((name, start_line, line - start_line + 1))
                head, head_start = [], i + 1
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=80, help="list functions longer than this (default 80)")
    ap.add_argument("paths", nargs="*", default=["firstboot"])
    a = ap.parse_args()
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    files = []
    for p in a.paths:
        if os.path.isdir(p):
            for d, _, names in os.walk(p):
                files += [os.path.join(d, x) for x in names if x.endswith(".c")]
        else:
            files.append(p)
    rows = [(n, f, l, name) for f in sorted(files) for name, l, n in functions(f) if n > a.n]
    for n, f, l, name in sorted(rows, key=lambda r: (-r[0], r[1], r[2])):
        print(f"{n:5d} {f}:{l} {name}")
    return 1 if rows else 0


if __name__ == "__main__":
    sys.exit(main())
