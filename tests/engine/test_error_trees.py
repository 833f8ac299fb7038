"""Every exception class of ``engine``, ``nodes`` and ``serve`` is drawn in its
package's error tree, under the class it derives from.

The trees are the literal blocks (``::``) of the docstrings of ``engine.errors``,
``nodes`` and ``serve.errors``. Every module of each package is imported (in a
subprocess, so this test's process keeps its own registries and settings) and each
exception class defined there is looked up in the tree.
"""

from __future__ import annotations

import builtins
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TREES = {"engine": "engine.errors", "nodes": "nodes", "serve": "serve.errors"}
MARKER = re.compile(r"[├└]── ")
NAME = re.compile(r"[A-Za-z_][\w.]*")

# Imports every module of each package; prints {package: [[module, class, [bases]]]}.
COLLECT = """
import importlib, inspect, json, pkgutil, sys
found = {}
for pkg in sys.argv[1:]:
    root = importlib.import_module(pkg)
    names = [pkg] + [m.name for m in pkgutil.walk_packages(root.__path__, prefix=pkg + ".")]
    rows = found.setdefault(pkg, [])
    for name in names:
        if name.rsplit(".", 1)[-1] == "__main__":
            continue
        mod = importlib.import_module(name)
        for attr, obj in sorted(vars(mod).items()):
            if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == name:
                rows.append([name, attr, [b.__name__ for b in obj.__bases__]])
print(json.dumps(found))
"""


def literal_blocks(doc: str) -> list[list[str]]:
    """The indented blocks that follow a line ending with ``::``."""
    lines = doc.splitlines()
    blocks: list[list[str]] = []
    i = 0
    while i < len(lines):
        if not lines[i].rstrip().endswith("::"):
            i += 1
            continue
        indent = len(lines[i]) - len(lines[i].lstrip())
        block: list[str] = []
        i += 1
        while i < len(lines) and (
            not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent
        ):
            block.append(lines[i])
            i += 1
        blocks.append(block)
    return blocks


def drawn_tree(doc: str) -> dict[str, str | None]:
    """``{class name: drawn parent}`` (None for a root) from a docstring's trees.

    A root is a name at the block's own indentation; a child starts with ``├──`` or
    ``└──``, four columns deeper per level. Other lines (wrapped descriptions) are
    skipped. Dotted names (``engine.errors.PipelineBuilderError``) keep their last part.
    """
    tree: dict[str, str | None] = {}
    for block in literal_blocks(doc):
        rows = [ln for ln in block if ln.strip()]
        if not rows:
            continue
        base = min(len(ln) - len(ln.lstrip()) for ln in rows)
        parents: list[str] = []
        for ln in rows:
            marker = MARKER.search(ln)
            if marker is not None:
                depth = (marker.start() - base) // 4 + 1
                text = ln[marker.end() :]
            elif len(ln) - len(ln.lstrip()) == base:
                depth, text = 0, ln.strip()
            else:
                continue
            m = NAME.match(text)
            if m is None:
                continue
            name = m.group(0).rsplit(".", 1)[-1]
            del parents[depth:]
            tree[name] = parents[-1] if parents else None
            parents.append(name)
    return tree


def test_drawn_tree_reads_roots_children_and_skips_wrapped_lines() -> None:
    doc = """Errors::

        pkg.Base
        ├── First        one
        │   └── Deep     two, whose description
        │                wraps onto a second line
        └── Second       three
        ValueError
        └── Other        four
    """
    assert drawn_tree(doc) == {
        "Base": None,
        "First": "Base",
        "Deep": "First",
        "Second": "Base",
        "ValueError": None,
        "Other": "ValueError",
    }


@pytest.fixture(scope="module")
def defined() -> dict[str, list[list]]:
    proc = subprocess.run(
        [sys.executable, "-c", COLLECT, *TREES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    found: dict[str, list[list]] = json.loads(proc.stdout.strip().splitlines()[-1])
    return found


@pytest.mark.parametrize("package", sorted(TREES))
def test_every_exception_class_is_drawn_under_its_base(
    package: str, defined: dict[str, list[list]]
) -> None:
    tree = drawn_tree(importlib.import_module(TREES[package]).__doc__ or "")
    classes = defined[package]
    assert classes, f"no exception class found in {package}"
    missing = [f"{mod}.{name}" for mod, name, _bases in classes if name not in tree]
    assert missing == [], f"not drawn in the tree of {TREES[package]}: {missing}"
    misplaced = [
        f"{mod}.{name} is drawn under {tree[name]}, derives from {bases}"
        for mod, name, bases in classes
        if tree[name] is not None and tree[name] not in bases
    ]
    assert misplaced == []


@pytest.mark.parametrize("package", sorted(TREES))
def test_every_drawn_class_exists(package: str, defined: dict[str, list[list]]) -> None:
    """A class renamed or removed leaves no stale entry in the tree."""
    tree = drawn_tree(importlib.import_module(TREES[package]).__doc__ or "")
    known = {name for rows in defined.values() for _mod, name, _bases in rows}
    stale = [
        name
        for name in tree
        if name not in known and not isinstance(getattr(builtins, name, None), type)
    ]
    assert stale == []
