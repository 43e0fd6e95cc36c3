#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""What each library adds to the static binary, from GNU ld's link map (-Wl,-Map=FILE):

    tools/size-map.py MAP [--binary STRIPPED] [--objects LIB] [--top N] [--json]

Sums the sizes of the input sections ld placed in allocated output sections (what `strip` keeps),
grouped by where they came from: an archive (libcrypto, libssl, libcurl, libc, ...), our own objects
(build/sta/...), the C runtime's start files. Sections ld dropped with --gc-sections are not counted:
the figures are what the binary holds. .bss takes no room in the file and is shown apart. With
--binary, the rest of the stripped file (ELF and program headers, page alignment between segments)
is shown as "headers and alignment", so the column adds up to the file's size.

--objects LIB lists the largest members of one archive instead (e.g. --objects libcrypto), which is
where to look for the next thing to leave out. --json prints the same figures as one JSON object.
"""
import argparse
import json
import os
import re
import sys

OUT_SECT = re.compile(r'^([._A-Za-z]\S*)(?:\s+0x([0-9a-f]+)\s+0x([0-9a-f]+))?\s*$')
IN_SECT = re.compile(r'^ (\S+)(?:\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(.+))?$')
CONT = re.compile(r'^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)(?:\s+(.+))?$')
MEMBER = re.compile(r'^(.*?)\(([^()]+)\)$')
NOBITS = ('.bss', '.tbss', '.lbss', '__libc_freeres_ptrs')


def origin(path):
    """(group, member) for an input file named in the map."""
    path = path.strip()
    m = MEMBER.match(path)
    if m:
        archive, member = m.groups()
        name = os.path.basename(archive)
        name = re.sub(r'(-[0-9.]+)?\.a$', '', name)
        return name, member
    base = os.path.basename(path)
    if '/sta/' in path or path.startswith('build/'):
        return 'kube-firstboot', base
    if re.match(r'crt\w*\.o$', base):
        return 'crt (start files)', base
    return base, base


def parse(lines):
    """{(group, member): [file_bytes, bss_bytes]} for the allocated sections of the map."""
    sizes = {}
    in_map = False
    alloc = False
    nobits = False
    pending = None  # an output or input section name whose address and size are on the next line

    def add(group, member, size):
        s = sizes.setdefault((group, member), [0, 0])
        s[1 if nobits else 0] += size

    for line in lines:
        line = line.rstrip('\n')
        if not in_map:
            in_map = line.startswith('Linker script and memory map')
            continue
        if line.startswith('OUTPUT('):
            break
        if pending is not None:
            kind, name = pending
            pending = None
            m = CONT.match(line)
            if m:
                addr, size, file = int(m.group(1), 16), int(m.group(2), 16), m.group(3)
                if kind == 'out':
                    alloc = addr != 0
                    nobits = name in NOBITS or name.startswith('.bss.')
                elif alloc and file and size:
                    add(*origin(file), size)
                continue
        if not line:
            continue
        if not line[0].isspace():
            m = OUT_SECT.match(line)
            if not m or m.group(1) in ('LOAD', 'START', 'END', '/DISCARD/'):
                alloc = False
                continue
            name = m.group(1)
            if m.group(2) is None:
                pending = ('out', name)
                alloc = False
            else:
                alloc = int(m.group(2), 16) != 0
                nobits = name in NOBITS
            continue
        m = IN_SECT.match(line)
        if not m or m.group(1).startswith('*('):
            continue
        name = m.group(1)
        if m.group(2) is None:
            if not name.startswith('*'):
                pending = ('in', name)
            continue
        size = int(m.group(3), 16)
        if not alloc or not size:
            continue
        if name == '*fill*':
            add('alignment fill', '', size)
        else:
            add(*origin(m.group(4)), size)
    if not in_map:
        raise ValueError('no "Linker script and memory map" section: not a GNU ld map')
    return sizes


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('map')
    ap.add_argument('--binary', help='the stripped binary, to show headers and alignment')
    ap.add_argument('--objects', metavar='LIB', help='the largest members of one archive')
    ap.add_argument('--top', type=int, default=25)
    ap.add_argument('--json', action='store_true')
    args = ap.parse_args()
    try:
        with open(args.map, encoding='utf-8', errors='replace') as f:
            sizes = parse(f)
    except (OSError, ValueError) as e:
        print(f'size-map: {args.map}: {e}', file=sys.stderr)
        return 1

    if args.objects:
        rows = sorted(((v[0], v[1], k[1]) for k, v in sizes.items() if k[0] == args.objects), reverse=True)
        if not rows:
            print(f'size-map: nothing linked from {args.objects}', file=sys.stderr)
            return 1
        total = sum(r[0] for r in rows)
        if args.json:
            print(json.dumps({'library': args.objects, 'bytes': total,
                              'objects': {r[2]: r[0] for r in rows}}, indent=1))
            return 0
        print(f'{args.objects}: {total:,} bytes in {len(rows)} objects; the largest {min(args.top, len(rows))}:')
        for b, _, member in rows[:args.top]:
            print(f'  {b:>11,}  {member}')
        return 0

    groups = {}
    for (group, _), (b, bss) in sizes.items():
        g = groups.setdefault(group, [0, 0])
        g[0] += b
        g[1] += bss
    total = sum(g[0] for g in groups.values())
    file_size = os.stat(args.binary).st_size if args.binary else None
    if file_size is not None:
        groups['headers and alignment'] = [file_size - total, 0]
    rows = sorted(groups.items(), key=lambda kv: -kv[1][0])
    if args.json:
        out = {'libraries': {k: v[0] for k, v in rows}, 'bss': {k: v[1] for k, v in rows if v[1]},
               'sections_bytes': total}
        if file_size is not None:
            out['file_bytes'] = file_size
        print(json.dumps(out, indent=1))
        return 0
    whole = file_size if file_size is not None else total
    print(f'{"library":<24} {"bytes":>11} {"share":>6} {".bss":>9}')
    for name, (b, bss) in rows:
        print(f'{name:<24} {b:>11,} {100 * b / whole:>5.1f}% {bss:>9,}')
    print(f'{"total":<24} {whole:>11,}' + ('  (the stripped file)' if file_size is not None else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
