#!/usr/bin/env bash
# File-level import cycles in every crate of the repository.
#
#   scripts/cycles.sh               every crate (each Cargo.toml beside a src/)
#   scripts/cycles.sh --crate DIR   only the crate in DIR (e.g. emulator)
#
# An edge A -> B is a `use crate::…`, `use super::…`, `use self::…`, a `use`
# of a module A declares, or a `crate::x::…` / `super::x::…` path in code,
# that names something in file B. Comments and string literals are skipped,
# and a path that resolves into its own file (an inline `mod tests { use
# super::*; }`) is no edge. Each entry point (lib.rs, main.rs, bin/…) is its
# own crate, its modules found by following `mod x;`. Prints every cycle with
# its files and exits 1 when there is one.
set -euo pipefail
cd "$(dirname "$0")/.."

crates=()
if [[ $# -gt 0 ]]; then
    if [[ $1 != --crate || $# -ne 2 ]]; then
        echo "usage: $0 [--crate DIR]" >&2
        exit 2
    fi
    crates=("$2")
else
    while IFS= read -r toml; do
        dir=$(dirname "$toml")
        [[ -d $dir/src ]] && crates+=("$dir")
    done < <(find . -name Cargo.toml -not -path '*/target/*' -not -path './build/*' \
        -not -path '*/.git/*' | sed 's|^\./||' | sort)
fi

exec python3 - "${crates[@]}" <<'PY'
import os, re, sys

def strip(text):
    """Code with comments and string/char literals blanked (newlines kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    out.append("\n" if text[i] == "\n" else "")
                    i += 1
        elif (m := re.match(r'b?r(#*)"', text[i:])) and (i == 0 or not (text[i-1].isalnum() or text[i-1] == "_")):
            end = text.find('"' + m.group(1), i + m.end())
            end = n if end < 0 else end + 1 + len(m.group(1))
            out.append('""' + "\n" * text.count("\n", i, end))
            i = end
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j + 1
        elif c == "'" and (m := re.match(r"'(\\.[^']*|[^\\'])'", text[i:])):
            out.append("' '")
            i += m.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)

def use_paths(tree):
    """`a::{b, c::{d}}` -> [[a,b],[a,c,d]]."""
    tree = re.sub(r"\s+", "", re.sub(r"\s+as\s+\w+", "", tree))
    def parse(s, k):
        prefix, paths = [], []
        while k < len(s):
            m = re.match(r"(\w+|\*)(::)?", s[k:])
            if s[k] == "{":
                k += 1
                while s[k] != "}":
                    sub, k = parse(s, k)
                    paths += [prefix + p for p in sub]
                    if s[k] == ",":
                        k += 1
                return paths, k + 1
            if not m:
                break
            prefix.append(m.group(1))
            k += m.end()
            if not m.group(2):
                break
        return paths + [prefix], k
    out, k = [], 0
    while k < len(tree):
        p, k = parse(tree, k)
        out += p
        if k < len(tree) and tree[k] == ",":
            k += 1
    return [p for p in out if p]

def crate_modules(root):
    """Module path (tuple) -> file, following `mod x;` from the root file."""
    mods, todo = {}, [((), root, os.path.dirname(root))]
    while todo:
        path, f, childdir = todo.pop()
        if f in mods.values() or not os.path.exists(f):
            continue
        mods[path] = f
        code = strip(open(f, encoding="utf-8").read())
        for m in re.finditer(r"(?m)^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", code):
            name = m.group(1)
            base = os.path.join(childdir, name)
            child = base + ".rs" if os.path.exists(base + ".rs") else os.path.join(base, "mod.rs")
            todo.append((path + (name,), child, base))
    return mods

def edges(mods):
    file_of = {f: p for p, f in mods.items()}
    out = {f: set() for f in mods.values()}
    for f, fpath in file_of.items():
        code = strip(open(f, encoding="utf-8").read())
        children = {p[-1] for p in mods if len(p) == len(fpath) + 1 and p[:-1] == fpath}
        # Inline modules: the module path at each offset.
        scopes, stack, depth = [], [], 0
        for m in re.finditer(r"\bmod\s+(\w+)\s*\{|[{}]", code):
            t = m.group(0)
            if t.startswith("mod"):
                depth += 1
                stack.append((depth, m.group(1)))
            elif t == "{":
                depth += 1
            else:
                if stack and stack[-1][0] == depth:
                    stack.pop()
                depth -= 1
            scopes.append((m.end(), fpath + tuple(n for _, n in stack)))
        def scope_at(pos):
            cur = fpath
            for end, sc in scopes:
                if end > pos:
                    break
                cur = sc
            return cur
        refs = []
        for m in re.finditer(r"\buse\s+([^;]+);", code):
            for p in use_paths(m.group(1)):
                refs.append((m.start(), p, True))
        for m in re.finditer(r"(?<![\w:])((?:crate|super|self)(?:::\w+)+)", code):
            refs.append((m.start(), m.group(1).split("::"), False))
        for pos, p, is_use in refs:
            here = scope_at(pos)
            if p[0] == "crate":
                target, rest = (), p[1:]
            elif p[0] in ("super", "self"):
                target, rest = here, p
                while rest and rest[0] in ("super", "self"):
                    if rest[0] == "super":
                        target = target[:-1]
                    rest = rest[1:]
            elif is_use and here == fpath and p[0] in children:
                target, rest = fpath, p
            else:
                continue
            full = tuple(target) + tuple(x for x in rest if x not in ("*", "self"))
            while full not in mods:
                full = full[:-1]
            if mods[full] != f:
                out[f].add(mods[full])
    return out

def cycles(graph):
    """Strongly connected components with more than one file (Tarjan)."""
    index, low, onstack, stack, comps, n = {}, {}, set(), [], [], [0]
    def visit(v):
        index[v] = low[v] = n[0]; n[0] += 1
        stack.append(v); onstack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in onstack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); onstack.discard(w); comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))
    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return comps

def one_cycle(graph, comp):
    """A shortest cycle through the component's first file."""
    start, members = comp[0], set(comp)
    prev, frontier = {start: None}, [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v]):
                if w == start:
                    path = [v]
                    while prev[path[-1]] is not None:
                        path.append(prev[path[-1]])
                    return list(reversed(path)) + [start]
                if w in members and w not in prev:
                    prev[w] = v; nxt.append(w)
        frontier = nxt
    return comp

found = 0
for crate in sys.argv[1:]:
    src = os.path.join(crate, "src")
    if not os.path.isdir(src):
        print(f"cycles: {crate}: no src/ directory", file=sys.stderr)
        sys.exit(2)
    roots = [os.path.join(src, r) for r in ("lib.rs", "main.rs") if os.path.exists(os.path.join(src, r))]
    bindir = os.path.join(src, "bin")
    if os.path.isdir(bindir):
        for e in sorted(os.listdir(bindir)):
            p = os.path.join(bindir, e)
            roots += [p] if e.endswith(".rs") else [os.path.join(p, "main.rs")] if os.path.exists(os.path.join(p, "main.rs")) else []
    crate_found = 0
    for root in roots:
        graph = edges(crate_modules(root))
        for comp in cycles(graph):
            crate_found += 1
            rel = lambda f: os.path.relpath(f, crate)
            print(f"cycle in {crate} ({rel(root)}): {' -> '.join(map(rel, one_cycle(graph, comp)))}")
            if len(comp) > 2:
                print(f"  files in the knot: {', '.join(map(rel, comp))}")
    print(f"{crate}: {'no cycles' if not crate_found else f'{crate_found} cycle(s)'}")
    found += crate_found
sys.exit(1 if found else 0)
PY
