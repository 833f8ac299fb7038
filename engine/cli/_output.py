"""What ``run`` writes while a pipeline runs, and where.

- **stdout** carries the result only: the summary, or with ``--json`` one JSON document
  and nothing else (a script can pipe it to ``jq``).
- **stderr** carries live progress: on a terminal a progress bar (rich) with rows,
  rate, steps and the estimated finish; otherwise (a file, a pipe, CI) one plain line
  every ``interval`` seconds. ``--quiet`` turns progress off.
- **Colour** only on a terminal and never when ``NO_COLOR`` is set (https://no-color.org);
  Ray's coloured log prefixes are turned off the same way (``RAY_COLOR_PREFIX=0``).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, TextIO

_TERMINAL_KINDS = ("completed", "failed", "cancelled")


def is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is an interactive terminal (not a file, pipe or dumb terminal)."""
    try:
        return stream.isatty() and os.environ.get("TERM", "") != "dumb"
    except (AttributeError, ValueError):
        return False


def colour_allowed(stream: TextIO) -> bool:
    """Colour only on a terminal, and never with ``NO_COLOR`` set to a non-empty value
    (https://no-color.org: an empty ``NO_COLOR`` does not turn colour off)."""
    return is_terminal(stream) and not os.environ.get("NO_COLOR")


def configure_colours(stream: TextIO | None = None) -> None:
    """Keep Ray's log prefixes plain unless colour is allowed (call before Ray starts)."""
    if not colour_allowed(stream or sys.stderr):
        os.environ["RAY_COLOR_PREFIX"] = "0"


class RunOutput:
    """The ``on_event`` callback of ``run``: progress on stderr (see module docs)."""

    def __init__(
        self,
        *,
        quiet: bool = False,
        stream: TextIO | None = None,
        interval: float = 2.0,
        bar: bool | None = None,
    ) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.interval = interval
        self.bar = is_terminal(self.stream) if bar is None else bar
        self.last = 0.0
        self._progress: Any = None
        self._task: Any = None
        configure_colours(self.stream)

    def __call__(self, event: Any) -> None:
        if event.kind == "started":
            self._started(event)
        elif event.kind == "progress" and not self.quiet:
            self._update(event.data)
        elif event.kind in _TERMINAL_KINDS:
            self.close()

    def _started(self, event: Any) -> None:
        if self.quiet:
            return
        line = (
            f"execution {event.execution_id} started "
            f"(pipeline {event.data.get('pipelineId')}, {event.data.get('totalSteps')} nodes)"
        )
        if self.bar:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            console = Console(file=self.stream, no_color="NO_COLOR" in os.environ)
            console.print(line, highlight=False)
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[detail]}"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            self._task = self._progress.add_task("running", total=None, detail="")
            self._progress.start()
        else:
            print(line, file=self.stream, flush=True)

    def _update(self, d: dict[str, Any]) -> None:
        rows = int(d.get("recordsProcessed") or 0)
        rate = rows / max(float(d.get("elapsedSeconds") or 0), 1e-6)
        steps = f"{d.get('completedSteps', 0)}/{d.get('totalSteps', 0)} done"
        eta = d.get("estimatedCompletion")
        detail = f"{rows:,} rows ({rate:,.0f}/s) {steps}" + (f", finish ~{eta}" if eta else "")
        if self._progress is not None:
            expected = d.get("expectedRecords")
            self._progress.update(
                self._task,
                description=str(d.get("currentStep") or "running"),
                completed=rows if expected else None,
                total=expected or None,
                detail=detail,
            )
            return
        if time.time() - self.last < self.interval:
            return
        self.last = time.time()
        nodes = " ".join(
            f"{k}={v.get('rowsOut', 0):,}" for k, v in (d.get("nodes") or {}).items()
            if v.get("rowsOut")
        )  # fmt: skip
        print(
            f"[{float(d.get('elapsedSeconds') or 0):7.1f}s] {detail} | {nodes}",
            file=self.stream,
            flush=True,
        )

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def print_result(result: dict[str, Any], *, as_json: bool, summary: Any) -> None:
    """The run's result on stdout: JSON only with ``--json``, else the summary text."""
    import json

    if as_json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
    else:
        print(summary(result))
    sys.stdout.flush()
