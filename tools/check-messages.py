#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Messages stay whole, so that a message seen in a log can be grepped in the sources: fails on a string
literal cut across lines into pieces ("cannot write " / "the file"). Pieces that end in a newline
(help texts, file templates, one literal per output line) and pieces around a macro ("write "
FB_MANIFESTS_DIR "/etcd.yaml") are fine. .clang-format's BreakStringLiterals: false keeps clang-format
from cutting; this catches the cuts made by hand.

    tools/check-messages.py [--fix] [FILE...]     (default: every tracked .c/.h outside tests/)

--fix joins the pieces in place (then 'make format' lays the lines out), e.g. after merging a branch
formatted before BreakStringLiterals was off.
"""
import re
import subprocess
import sys

TOKEN = re.compile(r'''//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|\s+|[A-Za-z_0-9]+|.''',
                   re.S)


def cuts(src):
    """(line, text, start, end) for each literal whose next token is another literal on a later line,
    when the first does not end in a newline; src[start:end] is what joins them ('" "' and the blanks)."""
    prev = None  # the last string literal token, if nothing but blanks followed it
    gap = ''
    for m in TOKEN.finditer(src):
        t = m.group()
        if t.isspace():
            gap += t
            continue
        if t.startswith('"') and prev is not None and '\n' in gap and not prev.group().endswith('\\n"'):
            yield src.count('\n', 0, prev.start()) + 1, prev.group() + ' ' + t, prev.end() - 1, m.start() + 1
        if t.startswith('//') or t.startswith('/*'):
            prev = None
        elif t.startswith('"'):
            prev = m
        else:
            prev = None
        gap = ''


def main(argv):
    fix = '--fix' in argv
    argv = [a for a in argv if a != '--fix']
    files = argv or subprocess.run(['git', 'ls-files', '-co', '--exclude-standard', '*.c', '*.h'],
                                   capture_output=True, text=True, check=True).stdout.split()
    files = [f for f in files if argv or not f.startswith('tests/')]
    bad = 0
    for f in files:
        with open(f, encoding='utf-8') as fh:
            src = fh.read()
        # Preprocessor lines are left out (a #define may cut what it likes) and separate what they
        # separate (#ifdef ... "static" #else "dynamic" #endif); offsets stay those of the file.
        masked = re.sub(r'^[ \t]*#(?:[^\n]*\\\n)*[^\n]*',
                        lambda m: '@' + re.sub(r'[^\n]', ' ', m.group()[1:]), src, flags=re.M)
        found = list(cuts(masked))
        for line, text, _, _ in found:
            print(f'{f}:{line}: a message cut into pieces, keep it one string: {text[:100]}')
        bad += len(found)
        if fix and found:
            for _, _, start, end in reversed(found):
                src = src[:start] + src[end:]
            with open(f, 'w', encoding='utf-8') as fh:
                fh.write(src)
    if bad == 0:
        print(f'check-messages: {len(files)} files, every message is one string')
    elif fix:
        print(f'check-messages: joined {bad} cuts; run make format')
        return 0
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
