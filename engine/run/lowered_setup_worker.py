"""Ray's worker set-up step, lowered first when the worker is an execution's.

The raylet starts every worker that has a runtime environment as
``python setup_worker.py --serialized-runtime-env-context=<json> <worker args>``; Ray's
script imports part of Ray (about half a CPU-second) and then execs the worker through
the environment's ``py_executable``. For an execution's workers
(:func:`engine.run.priority.runtime_env`) that import ran at the raylet's priority,
beside the API replica and the HTTP proxy, every time Ray started a worker for a run.

This script runs in its place on a local Ray started by :func:`engine.run.runner.ensure_ray`
(:func:`engine.run.priority.use_lowered_setup_worker`): it reads the nice value from the
context's environment variables, lowers itself to it, and then runs Ray's own script, so
the import runs lowered too. A worker without that variable is left as it is. Standard
library only, and nothing imported before the nice value is set.
"""

from __future__ import annotations

import importlib.util
import json
import os
import runpy
import sys

NICE_ENV = "PIPELINE_BUILDER_EXECUTION_NICE"  # engine.run.priority.NICE_ENV
CONTEXT_FLAG = "--serialized-runtime-env-context"


def requested_nice(argv: list[str]) -> int:
    """The nice value the runtime environment in ``argv`` asks for (0: none)."""
    for i, arg in enumerate(argv):
        if arg == CONTEXT_FLAG and i + 1 < len(argv):
            raw = argv[i + 1]
        elif arg.startswith(CONTEXT_FLAG + "="):
            raw = arg[len(CONTEXT_FLAG) + 1 :]
        else:
            continue
        try:
            context = json.loads(raw)
            value = int((context.get("env_vars") or {}).get(NICE_ENV, 0))
        except (ValueError, TypeError, AttributeError):
            return 0
        return value if 0 < value <= 19 else 0
    return 0


def ray_setup_worker() -> str:
    """The path of Ray's own ``setup_worker.py`` (found without importing Ray)."""
    spec = importlib.util.find_spec("ray")
    if spec is None or spec.origin is None:
        raise RuntimeError("ray is not importable from this interpreter")
    return os.path.join(os.path.dirname(spec.origin), "_private", "workers", "setup_worker.py")


def main() -> None:
    nice = requested_nice(sys.argv[1:])
    if nice:
        os.nice(max(0, nice - os.nice(0)))  # threads started later inherit it
    script = ray_setup_worker()
    sys.argv[0] = script
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
