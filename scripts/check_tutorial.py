#!/usr/bin/env python3
"""Checks that every ```cpp block in a tutorial is real code from examples/.

Each block must be preceded by a line `<!-- file: examples/tutorial/NN.cpp -->`.
A file without `// tutorial:begin` / `// tutorial:end` markers must equal its
one block whole; a file with markers has one block per marked region, shown
in order (the lines between regions, if any, are left out of the tutorial).
The regions' common indentation is removed before comparing.

    python3 scripts/check_tutorial.py docs/tutorial.md
    python3 scripts/check_tutorial.py README.md
"""
import re
import sys
from pathlib import Path

MARKER = re.compile(r"^<!--\s*file:\s*(\S+)\s*-->\s*$")


def dedent(lines):
    indents = [len(l) - len(l.lstrip(" ")) for l in lines if l.strip()]
    cut = min(indents, default=0)
    return [l[cut:] for l in lines]


def regions(text):
    lines = text.splitlines()
    found, current = [], None
    for number, line in enumerate(lines, 1):
        tag = line.strip()
        if tag == "// tutorial:begin":
            if current is not None:
                raise ValueError(f"line {number}: tutorial:begin inside a region")
            current = []
        elif tag == "// tutorial:end":
            if current is None:
                raise ValueError(f"line {number}: tutorial:end without a tutorial:begin")
            found.append("\n".join(dedent(current)))
            current = None
        elif current is not None:
            current.append(line)
    if current is not None:
        raise ValueError("a tutorial:begin is never ended")
    return found if found else [text.rstrip("\n")]


def blocks(markdown):
    """(file, code, line) for every ```cpp block, in order."""
    lines = markdown.splitlines()
    out, i = [], 0
    while i < len(lines):
        if lines[i].strip() == "```cpp":
            j = i - 1
            while j >= 0 and not lines[j].strip():
                j -= 1
            m = MARKER.match(lines[j].strip()) if j >= 0 else None
            end = i + 1
            while end < len(lines) and lines[end].strip() != "```":
                end += 1
            if end == len(lines):
                raise ValueError(f"line {i + 1}: the ```cpp block is never closed")
            out.append((m.group(1) if m else None, "\n".join(lines[i + 1:end]), i + 1))
            i = end
        i += 1
    return out


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    doc = Path(sys.argv[1])
    # The project's root: the nearest folder above the document with examples/
    # in it (docs/*.md sit one level down, README.md at the root).
    root = next((p for p in doc.resolve().parents if (p / "examples").is_dir()), doc.resolve().parent)
    errors, shown = [], {}
    found = blocks(doc.read_text(encoding="utf-8"))
    for name, code, line in found:
        if name is None:
            errors.append(f"{doc}:{line}: a ```cpp block without a <!-- file: examples/... --> line before it")
            continue
        shown.setdefault(name, []).append((code, line))
    for name, shown_blocks in shown.items():
        path = root / name
        if not name.startswith("examples/") or not path.is_file():
            errors.append(f"{doc}:{shown_blocks[0][1]}: {name} is not a file under examples/")
            continue
        try:
            expected = regions(path.read_text(encoding="utf-8"))
        except ValueError as e:
            errors.append(f"{name}: {e}")
            continue
        if len(expected) != len(shown_blocks):
            errors.append(f"{doc}: {name} has {len(expected)} region(s) but the tutorial shows {len(shown_blocks)}")
            continue
        for k, ((code, line), want) in enumerate(zip(shown_blocks, expected), 1):
            if code.rstrip() != want.rstrip():
                got_lines, want_lines = code.rstrip().splitlines(), want.rstrip().splitlines()
                where = next((n for n, (a, b) in enumerate(zip(got_lines, want_lines), 1) if a != b),
                             min(len(got_lines), len(want_lines)) + 1)
                errors.append(f"{doc}:{line}: block differs from {name} region {k} at its line {where}")
    for e in errors:
        print(e, file=sys.stderr)
    if not errors:
        print(f"{doc}: {len(found)} code blocks match {len(shown)} files")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
