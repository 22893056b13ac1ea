#!/usr/bin/env python3
"""List the functions that take MIN or more parameters (issue 22: those take a parameter struct instead).

usage: scripts/wide-functions.py [--min N] [--build DIR] [AREA ...]   (areas: default src include tools)

Reads DIR/compile_commands.json (cmake -DCMAKE_EXPORT_COMPILE_COMMANDS=ON), runs clang's JSON AST dump on
every translation unit under the areas and counts the ParmVarDecl children of each FunctionDecl (prototypes
and definitions; a header's declarations are seen through the files that include it). Prints one line per
function, widest first: `COUNT file:line name`; prints nothing when none is that wide.
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor


def clang_args(entry):
    args = entry.get("arguments") or shlex.split(entry["command"])
    out = ["clang", "-fsyntax-only", "-Xclang", "-ast-dump=json", "-Wno-everything"]
    skip = False
    for a in args[1:]:
        if skip:
            skip = False
            continue
        if a in ("-o", "-c"):
            skip = a == "-o"
            continue
        if a.startswith(("-I", "-D", "-std=", "-isystem", "-f")) and not a.startswith("-fsanitize"):
            out.append(a)
        elif a == "-isystem":
            out.append(a)
    out.append(entry["file"])
    return out


def walk(node, state, found):
    """Depth-first in dump order; clang writes a location's file only when it changes, so track it."""
    def see(loc):
        if not isinstance(loc, dict):
            return
        for sub in ("spellingLoc", "expansionLoc"):
            see(loc.get(sub))
        if "file" in loc:
            state["file"] = loc["file"]
        if "line" in loc:
            state["line"] = loc["line"]

    see(node.get("loc"))
    here = (state.get("file"), state.get("line"))
    rng = node.get("range", {})
    see(rng.get("begin"))
    see(rng.get("end"))
    if node.get("kind") == "FunctionDecl":
        n = sum(1 for c in node.get("inner", []) if c.get("kind") == "ParmVarDecl")
        found.append((n, here[0], here[1], node.get("name", "?")))
    for c in node.get("inner", []):
        walk(c, state, found)


def scan(entry):
    p = subprocess.run(clang_args(entry), cwd=entry["directory"], capture_output=True, text=True)
    if p.returncode != 0 and not p.stdout:
        sys.stderr.write(f"clang failed on {entry['file']}: {p.stderr[:500]}\n")
        return []
    found = []
    walk(json.loads(p.stdout), {}, found)
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min", type=int, default=8)
    ap.add_argument("--build", default="build")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("areas", nargs="*", default=["src", "include", "tools"])
    a = ap.parse_args()
    root = os.path.realpath(os.path.join(os.path.dirname(__file__), ".."))
    with open(os.path.join(a.build, "compile_commands.json")) as f:
        db = json.load(f)
    areas = [os.path.join(root, x) + os.sep for x in a.areas]
    tus = {}
    for e in db:
        path = os.path.realpath(os.path.join(e["directory"], e["file"]))
        if path.startswith(root + os.sep) and path not in tus:
            tus[path] = dict(e, file=path)
    wide = {}
    with ThreadPoolExecutor(a.jobs) as pool:
        for found in pool.map(scan, tus.values()):
            for n, file, line, name in found:
                if n < a.min or not file:
                    continue
                path = os.path.realpath(file)
                if not any(path.startswith(x) for x in areas):
                    continue
                key = (os.path.relpath(path, root), name)
                if key not in wide or line < wide[key][1]:
                    wide[key] = (n, line)
    for (file, name), (n, line) in sorted(wide.items(), key=lambda kv: (-kv[1][0], kv[0])):
        print(f"{n} {file}:{line} {name}")


if __name__ == "__main__":
    main()
