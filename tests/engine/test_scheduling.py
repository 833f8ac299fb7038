"""Ray Data starts the run's tasks without its idle intervals (engine/run/scheduling.py)."""

from __future__ import annotations

import os
import time

import pytest

from engine.run import scheduling

pytestmark = pytest.mark.usefixtures("ray_session")


def test_the_intervals_exist_and_are_shortened() -> None:
    """An upgrade of Ray that renames the settings fails here instead of going unnoticed."""
    from ray.data._internal.execution import resource_manager, streaming_executor_state

    assert scheduling.tune_streaming_scheduler() is True
    assert scheduling.TUNED is True
    refresh = resource_manager.ResourceManager.GLOBAL_LIMITS_UPDATE_INTERVAL_S
    wait = streaming_executor_state.WAIT_FOR_TASK_COMPLETION_TIMEOUT_S
    assert refresh == scheduling.LIMITS_REFRESH_S
    assert wait == scheduling.TASK_WAIT_S
    assert scheduling.tune_streaming_scheduler() is True  # idempotent
    assert refresh == resource_manager.ResourceManager.GLOBAL_LIMITS_UPDATE_INTERVAL_S


def _busy(batch: dict) -> dict:
    start = time.time()
    # under the one second Ray Data waits alone, with room for a busy host's scheduling
    while time.time() - start < 0.8:
        pass
    return {"start": [start], "end": [time.time()], "pid": [os.getpid()]}


def test_the_first_tasks_run_side_by_side() -> None:
    """Ray Data alone runs one task for the first second of an execution (it waits for the
    CPUs granted to it); tuned, the first two tasks overlap on the session's 2 CPUs.
    Without the tuning the second task starts only after the first has ended."""
    import ray
    import ray.data

    if ray.cluster_resources().get("CPU", 0) < 2:
        pytest.skip("needs a Ray session with 2 CPUs")
    scheduling.tune_streaming_scheduler()
    # The session's first execution is not measured: it starts Ray Data's coordinator
    # actor and the worker processes.
    for _ in range(2):
        rows = (
            ray.data.range(4, override_num_blocks=4)
            .map_batches(_busy, batch_size=None, num_cpus=1)
            .take_all()
        )
    first, second = sorted(rows, key=lambda r: r["start"])[:2]
    assert second["start"] < first["end"], (
        f"the second task started {second['start'] - first['end']:.2f} s after the first "
        "ended: the run used one CPU at first"
    )
