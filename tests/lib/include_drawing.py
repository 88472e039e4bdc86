#!/usr/bin/env python3
"""The includes between dagrad's parts, read from the sources, checked
against the layers of docs/design.md ("Parts") and drawn.

Every `#include <dagrad/P/...>` in a part's sources and headers (ops/ is
the core's) must name the part itself or one it may use; no part includes
the umbrella <dagrad/dagrad.hpp>. The drawing docs/images/parts.dot (and
its rendering, parts.svg) is this script's output: the check fails when the
committed one is not what the sources give, or Graphviz cannot draw it.
RENDER is tests/lib/render_file.cpp's program (dagrad's render).
  tests/lib/include_drawing.py SOURCE_ROOT RENDER            check
  tests/lib/include_drawing.py SOURCE_ROOT RENDER --write    write parts.dot and parts.svg"""
import os
import re
import subprocess
import sys
import tempfile

# What each part may use (docs/design.md, "Parts"), and what it links.
MAY = {
    'core': [],
    'io': ['core'],
    'viz': ['core', 'io'],
    'nn': ['core', 'io'],
    'onnx': ['core', 'io'],
    'ml': ['core', 'io', 'nn'],
    'cli': ['core'],
    'dist': ['core', 'io', 'nn'],
}
LINKS = {
    'core': 'Eigen, oneTBB, Boost.Graph',
    'io': 'zlib, libpng',
    'viz': 'Graphviz',
    'nn': '',
    'onnx': 'protobuf, ONNX',
    'ml': 'L-BFGS-B (opened at run time)',
    'cli': '',
    'dist': 'MPI',
}
INCLUDE = re.compile(r'^\s*#\s*include\s*<dagrad/([a-z_]+)(/|\.hpp>)', re.M)

if len(sys.argv) not in (3, 4) or sys.argv[3:] not in ([], ['--write']):
    sys.exit('usage: include_drawing.py SOURCE_ROOT RENDER [--write]')
root, render = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
write = sys.argv[3:] == ['--write']


def files_of(part):
    folders = [os.path.join(root, 'lib', part)] + ([os.path.join(root, 'ops')] if part == 'core' else [])
    for folder in folders:
        for base, _, names in os.walk(folder):
            for name in sorted(names):
                if name.endswith(('.cpp', '.hpp', '.in')):
                    yield os.path.join(base, name)


# part -> used part -> the first file that includes it
edges = {part: {} for part in MAY}
for part in MAY:
    for path in files_of(part):
        with open(path, encoding='utf-8') as f:
            for used, tail in INCLUDE.findall(f.read()):
                used = 'umbrella' if tail == '.hpp>' and used == 'dagrad' else used
                if used != part:
                    edges[part].setdefault(used, os.path.relpath(path, root))

failures = []
for part, used in edges.items():
    for other, path in sorted(used.items()):
        if other not in MAY[part]:
            what = '<dagrad/dagrad.hpp>' if other == 'umbrella' else f'part {other}'
            failures.append(f'{path} (part {part}) includes {what}, which {part} must never use '
                            f'(it may use: {", ".join(MAY[part]) or "no other part"})')


def dot():
    lines = ['// The parts of dagrad and the includes between them, read from the sources',
             '// by tests/lib/include_drawing.py (run it with --write to draw it again).',
             'digraph parts {',
             '  graph [fontname="Helvetica", nodesep=0.35, ranksep=0.45];',
             '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", color="#4a6fa5", fontname="Helvetica"];',
             '  edge [color="#4a6fa5", arrowsize=0.7];',
             '  umbrella [label="<dagrad/dagrad.hpp>\\nevery part", shape=note, fillcolor="#ffffff", color="#888888"];']
    for part in MAY:
        links = f'\\n{LINKS[part]}' if LINKS[part] else ''
        lines.append(f'  {part} [label="{part}{links}"];')
    for part in MAY:
        lines.append(f'  umbrella -> {part} [style=dashed, color="#aaaaaa"];')
    for part in MAY:
        for other in sorted(edges[part]):
            bad = ' [color="#c0392b", penwidth=2]' if other not in MAY[part] else ''
            lines.append(f'  {part} -> {other}{bad};')
    lines.append('}')
    return '\n'.join(lines) + '\n'


drawing = dot()
dot_file = os.path.join(root, 'docs', 'images', 'parts.dot')


def draw(dot_path, svg_path):
    r = subprocess.run([render, dot_path, svg_path], capture_output=True, text=True)
    if r.returncode != 0:
        failures.append(f'Graphviz could not draw {dot_path}: {r.stderr.strip()}')


if write:
    with open(dot_file, 'w', encoding='utf-8') as f:
        f.write(drawing)
    draw(dot_file, dot_file[:-4] + '.svg')
    print(f'wrote {os.path.relpath(dot_file, root)} and parts.svg')
else:
    try:
        with open(dot_file, encoding='utf-8') as f:
            committed = f.read()
    except OSError as e:
        committed = None
        failures.append(f'{dot_file}: {e.strerror}')
    if committed is not None and committed != drawing:
        failures.append('docs/images/parts.dot is not what the sources give: '
                        'run tests/lib/include_drawing.py SOURCE_ROOT build/tests/render_file --write')
    with tempfile.TemporaryDirectory() as tmp:
        draw(dot_file, os.path.join(tmp, 'parts.svg'))
for part in MAY:
    used = ', '.join(sorted(edges[part])) or 'no other part'
    print(f'{part:5} includes {used}')
for f in failures:
    print('FAIL', f)
sys.exit(1 if failures else 0)
