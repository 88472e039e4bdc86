#!/usr/bin/env python3
"""The build enforces the layers of docs/design.md ("Parts"): a source of one
part, with the flags the build compiles that part's files with, can include
the headers of the parts it may use and cannot find those it must never use.
Each probe is preprocessed (-E: finding headers is the preprocessor's part;
that they compile, the build shows) with the command meson wrote for a real
source file of the part (compile_commands.json).
  tests/lib/layers.py BUILD_DIR"""
import json, os, shlex, subprocess, sys, tempfile
from concurrent.futures import ThreadPoolExecutor

build = os.path.abspath(sys.argv[1])
# One header for each part.
header = {
    'core': 'dagrad/core/graph.hpp',
    'io': 'dagrad/io/idx.hpp',
    'viz': 'dagrad/viz/dot.hpp',
    'nn': 'dagrad/nn/optim.hpp',
    'ml': 'dagrad/ml/mlp.hpp',
    'onnx': 'dagrad/onnx/export.hpp',
    'cli': 'dagrad/cli/cli.hpp',
    'dist': 'dagrad/dist/mpi_group.hpp',
}
# What each part may include, and what it must never include.
may = {
    'core': ['core'],
    'io': ['core', 'io'],
    'viz': ['core', 'io', 'viz'],
    'nn': ['core', 'io', 'nn'],
    'ml': ['core', 'io', 'nn', 'ml'],
    'onnx': ['core', 'io', 'onnx'],
    'cli': ['core', 'cli'],
}
never = {
    'core': ['io', 'viz', 'nn', 'ml', 'onnx', 'cli', 'dist'],
    'io': ['viz', 'nn', 'ml', 'onnx', 'cli', 'dist'],
    'viz': ['nn', 'ml', 'onnx', 'cli', 'dist'],
    'nn': ['viz', 'ml', 'onnx', 'cli', 'dist'],
    'ml': ['viz', 'onnx', 'cli', 'dist'],
    'onnx': ['viz', 'nn', 'ml', 'cli', 'dist'],
    'cli': [],  # the parts' top: it may use any part below it
}

commands = json.load(open(os.path.join(build, 'compile_commands.json')))


def command_of(part):
    """The compiler's arguments for one of the part's own sources, without
    the file, the output and the dependency file."""
    marker = f'libdagrad_{part}.so.p'
    for c in commands:
        if marker in c['output'] and c['file'].endswith('.cpp'):
            args = shlex.split(c['command'])
            out, skip = [], False
            for a in args:
                if skip:
                    skip = False
                    continue
                if a in ('-o', '-MF', '-MQ', '-c'):
                    skip = a != '-c'
                    continue
                if a in ('-MD',) or a == c['file'] or a.endswith(os.path.basename(c['file'])):
                    continue
                out.append(a)
            return out, c['directory']
    sys.exit(f'layers.py: no compile command for a source of part {part} in {build}')


def compile_probe(part, headers, tmp):
    args, cwd = command_of(part)
    probe = os.path.join(tmp, f'{part}-{len(headers)}-{abs(hash(tuple(headers)))}.cpp')
    with open(probe, 'w') as f:
        f.writelines(f'#include <{h}>\n' for h in headers)
    return subprocess.run(args + ['-E', '-o', os.devnull, probe], cwd=cwd, capture_output=True, text=True)


def check_part(part, tmp):
    """The part's allowed headers are found together; each forbidden one is not."""
    found = []
    allowed = [header[p] for p in may[part]]
    r = compile_probe(part, allowed, tmp)
    if r.returncode != 0:
        found.append(f'{part} may include {allowed}, but they are not found:\n{r.stderr[:2000]}')
    else:
        print(f'ok  {part:5} includes {", ".join(allowed)}')
    for other in never[part]:
        h = header[other]
        r = compile_probe(part, [h], tmp)
        if r.returncode == 0:
            found.append(f'{part} must never include <{h}>, yet it is found')
        # GCC says "No such file or directory", clang "file not found".
        elif 'No such file or directory' not in r.stderr and "' file not found" not in r.stderr:
            found.append(f'{part} including <{h}> failed for another reason than a missing header:\n'
                         f'{r.stderr[:2000]}')
        else:
            print(f'ok  {part:5} cannot find <{h}>')
    return found


failures = []
with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(os.cpu_count()) as pool:
    for found in pool.map(lambda part: check_part(part, tmp), may):
        failures += found
for f in failures:
    print('FAIL', f)
sys.exit(1 if failures else 0)
