"""Executions run at a lower CPU priority: every thread of their processes, read by ``ps``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from engine.run import priority

NICE = priority.NICE_ENV

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values: Linux")


def _thread_nices(pid: int) -> list[int]:
    """The nice value of every thread of ``pid``, as ``ps`` reports them."""
    out = subprocess.run(
        ["ps", "-L", "-o", "ni=", "-p", str(pid)], capture_output=True, text=True, check=True
    ).stdout
    return [int(x) for x in out.split()]


def _child(body: str) -> subprocess.Popen[str]:
    """A Python process that runs ``body``, prints ``ready`` and waits for stdin to close."""
    code = (
        textwrap.dedent(
            """
        import sys, threading, time
        from engine.run.priority import lower_priority
        stop = threading.Event()
        for _ in range(3):
            threading.Thread(target=stop.wait, daemon=True).start()
        """
        )
        + textwrap.dedent(body)
        + "\nprint('ready', flush=True)\nsys.stdin.read()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def _finish(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait(timeout=30)


def test_every_thread_is_lowered_and_later_threads_inherit() -> None:
    proc = _child(
        """
        lower_priority(7)
        threading.Thread(target=stop.wait, daemon=True).start()  # started afterwards
        """
    )
    try:
        nices = _thread_nices(proc.pid)
        assert len(nices) == 5  # main, three threads before, one after
        assert nices == [7] * 5
    finally:
        _finish(proc)


def test_a_priority_is_never_raised() -> None:
    proc = _child(
        """
        import os
        os.setpriority(os.PRIO_PROCESS, 0, 12)  # the main thread only
        lower_priority(7)
        """
    )
    try:
        assert sorted(_thread_nices(proc.pid)) == [7, 7, 7, 12]
    finally:
        _finish(proc)


def test_nice_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(priority.NICE_ENV, "high")
    with pytest.raises(ValueError, match=priority.NICE_ENV):
        priority.execution_nice()
    monkeypatch.setenv(priority.NICE_ENV, "25")
    with pytest.raises(ValueError, match="0 to 19"):
        priority.execution_nice()
    monkeypatch.setenv(priority.NICE_ENV, "0")
    assert priority.runtime_env() is None  # turned off: no runtime environment at all
    monkeypatch.delenv(priority.NICE_ENV)
    own = os.getpriority(os.PRIO_PROCESS, 0)
    expected = min(19, max(priority.DEFAULT_NICE, own + priority.MIN_STEP))
    assert priority.below_this_thread() == expected
    assert priority.runtime_env() == {
        "env_vars": {priority.NICE_ENV: str(expected), priority.RAY_SETUP_HOOK_ENV: priority.HOOK},
        "py_executable": priority.lowered_interpreter(expected),
    }


def test_the_lowered_interpreter_sets_an_absolute_value_before_python_starts() -> None:
    import shlex
    import subprocess

    own = os.getpriority(os.PRIO_PROCESS, 0)
    target = min(19, own + 3)
    probe = "import os, sys; print(os.nice(0), sys.argv[1:], 'site' in sys.modules)"
    out = subprocess.run(
        ["bash", "-c", f"exec {priority.lowered_interpreter(target)} -c {shlex.quote(probe)} a b"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split(maxsplit=1)
    # The value itself (not added to this process's), the worker's arguments passed on,
    # and the real interpreter's start (site packages loaded) after the exec.
    assert out == [str(target), "['a', 'b'] True\n"]


class _Run:
    """Stands in for an execution's actor: runs a Ray Data pipeline and a plain task.

    Each process reads its own threads' nice values while it runs: a worker that ran a
    Ray Data task may exit (idle) before the test could look at it from outside."""

    def run(self) -> dict[str, dict[int, list[int]]]:
        import ray
        import ray.data

        def nices() -> list[int]:
            import os

            tids = [int(t) for t in os.listdir("/proc/self/task")]
            return sorted(os.getpriority(os.PRIO_PROCESS, t) for t in tids)

        def where(batch: dict[str, object]) -> dict[str, object]:
            import os

            n = len(batch["id"])  # type: ignore[arg-type]
            return {"pid": [os.getpid()] * n, "nices": [nices()] * n}

        @ray.remote
        def plain() -> tuple[int, list[int]]:
            time.sleep(0.2)
            return os.getpid(), nices()

        rows = ray.data.range(64, override_num_blocks=8).map_batches(where).take_all()
        return {
            "self": {os.getpid(): nices()},
            "data": {int(r["pid"]): list(r["nices"]) for r in rows},
            "tasks": dict(ray.get([plain.remote() for _ in range(4)])),
        }


def test_an_execution_actor_and_its_ray_data_tasks_run_lowered(ray_session) -> None:
    import ray

    nice = 17  # above Ray's own worker nice value (15), so the hook's work shows
    actor = ray.remote(_Run).options(num_cpus=0, runtime_env=priority.runtime_env(nice)).remote()
    try:
        pids = ray.get(actor.run.remote(), timeout=300)
        lowered = {**pids["self"], **pids["data"], **pids["tasks"]}
        assert len(pids["data"]) >= 1 and len(pids["tasks"]) >= 1
        for pid, nices in lowered.items():
            # Every thread at the value; the main thread may sit higher still: Ray adds
            # its own worker nice value (15 in this session's Ray) to it after start.
            assert min(nices) == nice and set(nices) <= {nice, 19}, (pid, nices)

        @ray.remote
        def outside() -> int:
            return os.getpid()

        # The driver's own tasks run in the node's other workers, which keep their values.
        other = ray.get(outside.remote(), timeout=120)
        assert other not in lowered
        assert nice not in set(_thread_nices(other))
    finally:
        ray.kill(actor)


def test_an_execution_worker_is_lowered_before_its_setup_hook_runs(ray_session) -> None:
    """Without the setup hook, the interpreter Ray starts is lowered already: the
    worker's own start (its imports) runs at the execution's value."""
    import ray

    nice = 18
    env = priority.runtime_env(nice)
    assert env is not None
    del env["env_vars"][priority.RAY_SETUP_HOOK_ENV]

    @ray.remote(num_cpus=0)
    def thread_nices() -> list[int]:
        tids = [int(t) for t in os.listdir("/proc/self/task")]
        return sorted(os.getpriority(os.PRIO_PROCESS, t) for t in tids)

    # Ray's own threads, started before any task or hook, inherited the value.
    nices = ray.get(thread_nices.options(runtime_env=env).remote(), timeout=300)
    assert min(nices) == nice, nices


def _setup_step(context: dict[str, object]) -> list[str]:
    """Run :mod:`engine.run.lowered_setup_worker` as the raylet does, with Ray's own
    ``setup_worker.py`` after it; the "worker" it execs prints its nice value and args."""
    import json
    import shlex

    from engine.run import lowered_setup_worker

    probe = "import os, sys; print(os.nice(0), sys.argv[1:])"
    ctx = {"py_executable": f"{shlex.quote(sys.executable)} -c {shlex.quote(probe)}", **context}
    out = subprocess.run(
        [
            sys.executable,
            lowered_setup_worker.__file__,
            f"--serialized-runtime-env-context={json.dumps(ctx)}",
            "--language=PYTHON",
            "worker-arg",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    return out.split(maxsplit=1)


def test_the_setup_step_lowers_itself_before_rays_own_runs() -> None:
    from engine.run.lowered_setup_worker import NICE_ENV

    own = os.getpriority(os.PRIO_PROCESS, 0)
    target = min(19, own + 5)
    # Ray's script ran (it exec'd the environment's interpreter with the worker's
    # arguments) in a process already at the value: the exec'd worker inherited it.
    assert NICE_ENV == priority.NICE_ENV
    assert _setup_step({"env_vars": {NICE_ENV: str(target)}}) == [
        str(target),
        "['worker-arg']\n",
    ]
    # A worker of another runtime environment keeps the raylet's value.
    assert _setup_step({"env_vars": {"OTHER": "1"}}) == [str(own), "['worker-arg']\n"]


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--serialized-runtime-env-context=not json"],
        ["--serialized-runtime-env-context=[]"],
        ["--serialized-runtime-env-context=" + json.dumps({"env_vars": {NICE: "x"}})],
        ["--serialized-runtime-env-context=" + json.dumps({"env_vars": {NICE: "40"}})],
        ["--serialized-runtime-env-context"],
    ],
)
def test_a_context_without_a_usable_value_leaves_the_worker_as_it_is(argv: list[str]) -> None:
    from engine.run.lowered_setup_worker import requested_nice

    assert requested_nice(argv) == 0


def test_both_flag_forms_are_read() -> None:
    from engine.run.lowered_setup_worker import requested_nice

    ctx = json.dumps({"env_vars": {NICE: "12"}})
    assert requested_nice([f"--serialized-runtime-env-context={ctx}", "x"]) == 12
    assert requested_nice(["--serialized-runtime-env-context", ctx, "x"]) == 12


def test_a_local_ray_is_started_with_the_lowered_setup_step() -> None:
    """Ray's node joins ``SETUP_WORKER_FILENAME`` to its own directory when it starts;
    fails if an upgrade of Ray stops reading it there."""
    import inspect

    import ray._private.node as node
    from ray._private import ray_constants

    from engine.run import lowered_setup_worker
    from engine.run.runner import lowered_setup_worker as patched

    assert "ray_constants.SETUP_WORKER_FILENAME" in inspect.getsource(node.Node.__init__)
    before = ray_constants.SETUP_WORKER_FILENAME
    with patched():
        value = ray_constants.SETUP_WORKER_FILENAME
        assert os.path.join(os.path.dirname(node.__file__), "workers", value) == value
        assert os.path.samefile(value, lowered_setup_worker.__file__)
    assert before == ray_constants.SETUP_WORKER_FILENAME


@pytest.mark.slow
def test_an_execution_workers_setup_step_runs_lowered_on_a_local_ray() -> None:
    """A fresh local Ray from ``ensure_ray``: its raylet's worker command names the
    lowered set-up step, and a task of the execution environment runs at the value."""
    code = textwrap.dedent(
        """
        import os, sys, psutil, ray
        from engine.run import priority
        from engine.run.runner import ensure_ray
        ensure_ray(None, num_cpus=1, worker_niceness=0, _temp_dir=sys.argv[1])
        try:
            raylet = [p for p in psutil.Process().children(recursive=True)
                      if p.name() == "raylet" or "raylet" in " ".join(p.cmdline()[:1])]
            cmd = " ".join(raylet[0].cmdline())
            print("lowered" if "lowered_setup_worker.py" in cmd else "ray's", flush=True)
            task = ray.remote(lambda: os.nice(0)).options(runtime_env=priority.runtime_env(16))
            print(ray.get(task.remote(), timeout=300), flush=True)
        finally:
            ray.shutdown()
        """
    )
    import tempfile

    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    env.pop("RAY_ADDRESS", None)
    temp = tempfile.mkdtemp(prefix="pbnice-", dir="/tmp")  # short: Ray's socket paths
    out = subprocess.run(
        [sys.executable, "-c", code, temp],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["lowered", "16"]
