"""How quickly Ray Data's streaming executor starts tasks on the driver.

Two of Ray Data's scheduling intervals leave CPUs idle on a small machine
(benchmarks/RESULTS.md, "Engine overhead", measured on 2 CPUs):

- **Start-up.** The executor learns the CPUs it may use from Ray Data's autoscaling
  coordinator, asked asynchronously and re-read once a second
  (``ResourceManager.GLOBAL_LIMITS_UPDATE_INTERVAL_S``). Until the first answer is read
  the limits are zero, and the executor runs one task at a time: the first second of
  every run uses one CPU.
- **Between tasks.** Each scheduling step waits for *all* running tasks, with a timeout
  of 0.1 s (``WAIT_FOR_TASK_COMPLETION_TIMEOUT_S``), before it looks at the ones that
  finished. With two tasks running, a CPU whose task has ended stays idle for up to that
  long before the next task is started: 0.1-0.2 s per task.

Both are module-level settings of Ray Data's executor, not public options, so they are
set here once per driver process and only when the attributes exist with the types
expected; :data:`TUNED` says whether they were. ``tests/engine/test_scheduling.py``
fails when an upgrade of Ray removes them, rather than letting the speed-up vanish
silently.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

LIMITS_REFRESH_S = 0.05  # re-read the CPUs granted to the run (Ray Data: 1 s)
TASK_WAIT_S = 0.02  # longest wait for finished tasks per scheduling step (Ray Data: 0.1 s)

TUNED = False


def tune_streaming_scheduler() -> bool:
    """Shorten the two intervals above in this process (idempotent). Returns whether
    both settings were found and set."""
    global TUNED
    if TUNED:
        return True
    try:
        from ray.data._internal.execution import resource_manager, streaming_executor_state
    except ImportError:  # pragma: no cover - Ray Data moved its executor
        logger.debug("Ray Data's executor modules not found; scheduling left as it is")
        return False
    manager = getattr(resource_manager, "ResourceManager", None)
    current = (
        getattr(manager, "GLOBAL_LIMITS_UPDATE_INTERVAL_S", None),
        getattr(streaming_executor_state, "WAIT_FOR_TASK_COMPLETION_TIMEOUT_S", None),
    )
    if not all(isinstance(v, int | float) for v in current):
        logger.debug("Ray Data's scheduling intervals not found; left as they are")
        return False
    refresh, wait = (float(v) for v in current)  # type: ignore[arg-type]
    manager.GLOBAL_LIMITS_UPDATE_INTERVAL_S = min(refresh, LIMITS_REFRESH_S)  # type: ignore[union-attr]
    streaming_executor_state.WAIT_FOR_TASK_COMPLETION_TIMEOUT_S = min(wait, TASK_WAIT_S)
    TUNED = True
    return True
