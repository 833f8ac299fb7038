"""The ``pipeline-builder`` command line.

Each module of this package defines ``register(subparsers)`` that adds its commands;
each command's handler takes the parsed ``argparse.Namespace`` and returns an exit code.
Commands that compose layers above the engine (``serve``, ``deploy``, ``keys``) register
through the ``pipeline_builder.commands`` entry-point group, so the engine never names
them. Adding a command touches one module.

May import: everything in ``engine``. Never ``nodes`` or ``serve``.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from importlib.metadata import entry_points

from engine.errors import PipelineBuilderError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pipeline-builder",
        description="Validate, run and serve data-preparation pipelines on Ray.",
    )
    parser.add_argument("--version", action="version", version=f"pipeline-builder {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if mod.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{mod.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    for ep in sorted(entry_points(group="pipeline_builder.commands"), key=lambda e: e.name):
        ep.load()(sub)
    return parser


def _version() -> str:
    """The installed distribution's version (the source tree's when not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pipeline-builder")
    except PackageNotFoundError:
        from engine import __version__

        return __version__


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``pipeline-builder`` and ``python -m engine``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except PipelineBuilderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
