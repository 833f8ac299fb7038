"""Run pipeline work at a lower CPU priority than the processes that serve requests.

On a node that also serves the HTTP API, an execution's Ray Data tasks would otherwise
take every core from the API replica and the HTTP proxy, and a status poll would wait
behind them. Executions started by the API (:mod:`engine.service.executions`) therefore
run in processes whose every thread has the nice value :data:`NICE_ENV` (default
:data:`DEFAULT_NICE`; ``0`` turns it off): the execution's actor and every worker process
that runs its tasks. The API replica, the HTTP proxy, the GCS and the raylet keep their
priority, so the kernel runs them first whenever they have work, and the executions get
whatever CPU is left (all of it when the API is idle).

How the worker processes are lowered: :func:`runtime_env` is the execution actor's Ray
runtime environment. Its ``py_executable`` (:func:`lowered_interpreter`) starts each
worker's interpreter at the value, so the worker's own start-up (its imports, a second or
more of CPU) runs lowered too. On a local Ray started by
:func:`engine.run.runner.ensure_ray`, the raylet's set-up step before it (Ray's
``setup_worker.py``, about half a CPU-second of imports per worker) is lowered as well
(:mod:`engine.run.lowered_setup_worker`). It names :func:`lower_priority` as the worker
process setup hook (the variable Ray's ``worker_process_setup_hook`` sets; Ray converts
that field only in ``ray.init``, not in an actor's options), so every process started for
that environment lowers itself before it runs a task. Tasks and actors an actor submits
inherit its runtime environment, so Ray Data's read, map and write tasks of the run get
processes of their own, started with the hook; the node's other workers are never touched.
Every execution uses the same environment, so they share one pool of lowered workers.

On Linux a nice value belongs to a thread, not to a process: :func:`lower_priority` sets
it on every thread the process has (threads started later inherit it from their creator).
This module imports nothing from Ray: worker processes load it at start.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
from typing import Any

NICE_ENV = "PIPELINE_BUILDER_EXECUTION_NICE"
DEFAULT_NICE = 19  # batch work: below everything interactive on the node (Ray's own workers: 15)
MIN_STEP = 4  # executions run at least this much below the process that starts them
HOOK = f"{__name__}.lower_priority"
# The variable Ray's worker_process_setup_hook becomes (ray._private.ray_constants).
RAY_SETUP_HOOK_ENV = "__RAY_WORKER_PROCESS_SETUP_HOOK_ENV_VAR"


def execution_nice() -> int:
    """The nice value of execution processes: ``$PIPELINE_BUILDER_EXECUTION_NICE`` (0..19)."""
    raw = os.environ.get(NICE_ENV, "").strip()
    if not raw:
        return DEFAULT_NICE
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"{NICE_ENV} must be an integer from 0 to 19, not {raw!r}") from exc
    if not 0 <= value <= 19:
        raise ValueError(f"{NICE_ENV} must be an integer from 0 to 19, not {value}")
    return value


def _threads() -> list[int]:
    try:
        return [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:  # no procfs: the calling thread only
        return [0]


def lower_priority(nice: int | None = None) -> int:
    """Give every thread of this process at least ``nice`` (default :func:`execution_nice`).

    Never raises a thread's priority (a nice value only goes up without privileges).
    Returns the nice value of the calling thread afterwards.
    """
    target = execution_nice() if nice is None else nice
    if target > 0:
        for tid in _threads():
            with contextlib.suppress(OSError):  # a thread that has just ended
                if os.getpriority(os.PRIO_PROCESS, tid) < target:
                    os.setpriority(os.PRIO_PROCESS, tid, target)
    return os.getpriority(os.PRIO_PROCESS, 0)


def below_this_thread(nice: int | None = None) -> int:
    """The nice value for executions started from the calling thread (0: not lowered).

    The configured value (:func:`execution_nice`), and at least :data:`MIN_STEP` above
    the caller's own, 19 at most: in a Ray that runs its workers at its default nice
    value (15), the API replica's threads are at 15 too, and executions go to 19.
    """
    value = execution_nice() if nice is None else nice
    if value <= 0:
        return 0
    own = os.getpriority(os.PRIO_PROCESS, 0)
    return min(19, max(value, own + MIN_STEP))


def runtime_env(nice: int | None = None) -> dict[str, Any] | None:
    """The runtime environment of an execution's actor (None when not lowered).

    Its processes, and those of every task it submits, start under ``nice`` (Ray's
    ``py_executable``) and run :func:`lower_priority` at start with
    :func:`below_this_thread` (or ``nice``).
    """
    value = below_this_thread() if nice is None else nice
    if value <= 0:
        return None
    env: dict[str, Any] = {"env_vars": {NICE_ENV: str(value), RAY_SETUP_HOOK_ENV: HOOK}}
    # The worker's interpreter starts lowered: its start (a second or more of CPU, each
    # time Ray starts a worker for a run) no longer competes with the API.
    env["py_executable"] = lowered_interpreter(value)
    return env


def lowered_interpreter(nice: int) -> str:
    """A ``py_executable`` for Ray: this Python, started at nice value ``nice``.

    A few lines run with ``-S`` (no site packages: milliseconds) set the value, absolute
    rather than added to the raylet's, and exec the real interpreter with the worker's
    arguments, so everything the worker does, its imports included, runs lowered.
    """
    code = (
        "import os,sys;"
        f"os.nice(max(0,{int(nice)}-os.nice(0)));"
        "os.execv(sys.executable,[sys.executable]+sys.argv[1:])"
    )
    return f"{shlex.quote(sys.executable)} -S -c {shlex.quote(code)}"
