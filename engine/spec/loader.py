"""Load a pipeline spec from YAML or JSON text or a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from engine.errors import Problem, SpecError, ValidationFailed
from engine.spec.models import PipelineSpec


def read_document(path: str | Path) -> Any:
    """Read a YAML or JSON document (JSON is valid YAML, but JSON errors read better)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"cannot read {p}: {exc.strerror or exc}") from None
    return parse_document(text, source=str(p))


def parse_document(text: str, *, source: str = "<text>") -> Any:
    stripped = text.lstrip()
    try:
        if stripped.startswith(("{", "[")):
            return json.loads(text)
        return yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"{source}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise SpecError(f"{source}: invalid YAML{where}: {exc}") from None


def problems_from_pydantic(
    exc: ValidationError, *, prefix: str = "", node_id: str | None = None
) -> list[Problem]:
    """Turn a pydantic error into Problems with dotted paths."""
    out = []
    for err in exc.errors():
        loc = [str(x) for x in err["loc"]]
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (not part of the spec)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        path = ".".join([p for p in [prefix, *loc] if p])
        out.append(Problem(node_id, path, msg))
    return out


def parse_spec(data: Any) -> PipelineSpec:
    """Build a :class:`PipelineSpec` from a parsed document, listing every shape problem."""
    if not isinstance(data, dict):
        raise SpecError(f"a pipeline spec must be a mapping, got {type(data).__name__}")
    try:
        return PipelineSpec.model_validate(data)
    except ValidationError as exc:
        problems = []
        raw_nodes = data.get("nodes")
        nodes: list[Any] = raw_nodes if isinstance(raw_nodes, list) else []
        for p in problems_from_pydantic(exc):
            parts = p.path.split(".")
            node_id = None
            if len(parts) >= 2 and parts[0] == "nodes" and parts[1].isdigit():
                idx = int(parts[1])
                raw = nodes[idx] if idx < len(nodes) else None
                node_id = raw.get("id") if isinstance(raw, dict) else None
                path = ".".join(parts[2:]) if node_id else p.path
            else:
                path = p.path
            problems.append(Problem(node_id, path, p.message))
        raise ValidationFailed(problems, pipeline_id=data.get("id")) from None


def load_spec(path: str | Path) -> PipelineSpec:
    """Read and parse a spec file (YAML or JSON)."""
    return parse_spec(read_document(path))
