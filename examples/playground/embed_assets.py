#!/usr/bin/env python3
"""Writes a C++ file holding the given files as byte arrays, for assets.hpp.

    embed_assets.py OUT.cpp FILE...   (each FILE served as /<its name>)
"""
import os
import sys

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}


def main():
    out_path, files = sys.argv[1], sys.argv[2:]
    lines = ['#include "playground/assets.hpp"', "", "namespace playground {", "namespace {", ""]
    entries = []
    for i, path in enumerate(files):
        name = os.path.basename(path)
        ext = os.path.splitext(name)[1]
        if ext not in TYPES:
            sys.exit(f"embed_assets.py: {path}: no content type for '{ext}' files")
        with open(path, "rb") as f:
            data = f.read()
        lines.append(f"// {name}, {len(data)} bytes")
        lines.append(f"constexpr char asset_{i}[] = {{")
        for at in range(0, len(data), 24):
            lines.append("    " + ", ".join(str(b if b < 128 else b - 256) for b in data[at:at + 24]) + ",")
        lines.append("    0};")
        entries.append(f'    {{"/{name}", "{TYPES[ext]}", {{asset_{i}, {len(data)}}}}},')
    lines += ["", "constexpr Asset table[] = {"] + entries + ["};", "", "}  // namespace", "",
              "std::span<const Asset> assets() { return table; }", "", "}  // namespace playground", ""]
    tmp = out_path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines))
    os.replace(tmp, out_path)


if __name__ == "__main__":
    main()
