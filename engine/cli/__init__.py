"""The ``pipeline-builder`` command line.

Each module of this package defines ``register(subparsers)`` that adds its commands;
each command's handler takes the parsed ``argparse.Namespace`` and returns an exit code.
Commands that compose layers above the engine (``serve``, ``deploy``, ``keys``) register
through the ``pipeline_builder.commands`` entry-point group, so the engine never names
them. Adding a command touches one module.

A command that changes state declares its audit entry with
``set_defaults(audit_action="environment.rollback", audit_resource=("environment",
"environment_id"))`` (resource type, and the argument holding its id); its handler may
add ``args.audit_details``. :func:`main` then writes the entry on the audit trail
(:mod:`engine.audit`) as ``cli:<user>``, also when the command fails, so layers that may
not import the audit trail (the nodes' commands) are audited all the same.

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
        code = int(args.handler(args) or 0)
    except PipelineBuilderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return _audited(args, 2, exc)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return _audited(args, 130, KeyboardInterrupt("interrupted"))
    except Exception as exc:
        _audited(args, 1, exc)
        raise
    return _audited(args, code)


def _audited(args: argparse.Namespace, code: int, error: BaseException | None = None) -> int:
    """Write the audit entry a command declared (``audit_action``); return the exit code.

    A command whose entry cannot be written exits non-zero: what it did is then not on
    record, and the operator must know."""
    action = getattr(args, "audit_action", None)
    if not action:
        return code
    rtype, id_arg = getattr(args, "audit_resource", ("command", "command"))
    details = dict(getattr(args, "audit_details", None) or {})
    if error is not None:
        details.update(error=str(error)[:500], errorType=type(error).__name__)
    outcome = "success" if code == 0 and error is None else "failure"
    try:
        from engine.audit.log import record
        from engine.cli.run_cmd import cli_actor

        record(
            action,
            rtype,
            str(getattr(args, id_arg, "") or ""),
            actor=cli_actor(),
            outcome=outcome,
            details={"interface": "cli", "exitCode": code, **details},
        )
    except Exception as exc:
        print(f"error: the audit entry for {action} could not be written: {exc}", file=sys.stderr)
        return code or 1
    return code


if __name__ == "__main__":
    sys.exit(main())
