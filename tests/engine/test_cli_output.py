"""What the CLI writes: --version, JSON-only stdout, progress on stderr, NO_COLOR."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli._output import RunOutput, colour_allowed, configure_colours
from engine.run.result import RunEvent

ANSI = re.compile(r"\x1b\[")


def _cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    return subprocess.run(
        [sys.executable, "-m", "engine", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=600,
    )


def test_version() -> None:
    from importlib.metadata import version

    proc = _cli("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"pipeline-builder {version('pipeline-builder')}"


def _event(kind: str, **data) -> RunEvent:
    return RunEvent(kind, "exec_1", 0.0, data)  # type: ignore[arg-type]


def _progress(rows: int) -> RunEvent:
    return _event(
        "progress",
        recordsProcessed=rows,
        elapsedSeconds=2.0,
        completedSteps=1,
        totalSteps=3,
        currentStep="load",
        estimatedCompletion="2026-01-01T00:00:10Z",
        expectedRecords=1000,
        nodes={"load": {"rowsOut": rows}},
    )


def test_plain_lines_off_a_terminal() -> None:
    out = io.StringIO()  # not a terminal: no bar, no colour
    printer = RunOutput(stream=out, interval=0)
    printer(_event("started", pipelineId="p", totalSteps=3))
    printer(_progress(500))
    printer(_event("completed"))
    text = out.getvalue()
    assert text.splitlines()[0] == "execution exec_1 started (pipeline p, 3 nodes)"
    assert "500 rows (250/s) 1/3 done, finish ~2026-01-01T00:00:10Z | load=500" in text
    assert not ANSI.search(text)


def test_quiet_writes_nothing() -> None:
    out = io.StringIO()
    printer = RunOutput(stream=out, quiet=True, interval=0)
    printer(_event("started", pipelineId="p", totalSteps=3))
    printer(_progress(5))
    assert out.getvalue() == ""


def test_bar_on_a_terminal_renders_and_closes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    out = io.StringIO()
    printer = RunOutput(stream=out, bar=True)
    printer(_event("started", pipelineId="p", totalSteps=3))
    printer(_progress(500))
    assert printer._progress is not None
    printer(_event("failed"))
    assert printer._progress is None
    assert "execution exec_1 started" in out.getvalue()


def test_no_color_and_files_turn_ray_prefix_colours_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAY_COLOR_PREFIX", raising=False)
    configure_colours(io.StringIO())
    assert os.environ["RAY_COLOR_PREFIX"] == "0"

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert colour_allowed(Tty())
    monkeypatch.setenv("NO_COLOR", "")  # no-color.org: only a non-empty value counts
    assert colour_allowed(Tty())
    for value in ("1", "0", "false"):  # any non-empty value turns colour off
        monkeypatch.setenv("NO_COLOR", value)
        assert not colour_allowed(Tty())


def test_run_json_prints_only_json(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text("id,name\n1,a\n2,\n3,c\n")
    (tmp_path / "p.yaml").write_text(
        "id: p\nnodes:\n"
        "  - {id: load, nodeType: source, category: file, config: {uri: in.csv}}\n"
        "  - {id: out, nodeType: output, category: archive, inputs: [load],"
        " config: {uri: out}}\n"
    )
    env = {
        "PIPELINE_BUILDER_HOME": str(tmp_path / "home"),
        "PIPELINE_BUILDER_DATA_ROOTS": str(tmp_path),
        "RAY_AUTH_MODE": "disabled",
        "NO_COLOR": "1",
    }
    proc = _cli("run", str(tmp_path / "p.yaml"), "--json", env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)  # the whole of stdout is one JSON document
    assert result["status"] == "completed"
    assert result["nodes"]["out"]["rowsIn"] == 3
    assert not ANSI.search(proc.stderr), proc.stderr[-2000:]
