"""``context.dataRequirements`` of an execute request: honoured, or refused by name.

Each requirement is either honoured for this execution or the request is refused with
a 422 problem naming it; none is silently ignored:

``format``
    The output format of the pipeline's ``output/model_training`` nodes for this run
    (``tensorflow_records``/``tfrecord``, ``parquet``, ``npz``/``numpy``, ``jsonl``). A
    pipeline without such a node honours it only when every output already writes that
    format; otherwise it is refused.
``privacy_level`` (or ``privacyLevel``)
    ``none``/``low``: always met. ``medium``: some node redacts or synthesizes the data,
    or the pipeline enforces a compliance framework. ``high``: the pipeline enforces a
    compliance framework (``complianceFramework`` on a node, or a ``compliance:<F>``
    tag), which validation has already checked on every path to every output.
``size``
    No node of the engine targets an output size, so it is refused.

Any other key is refused as unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.spec.models import PipelineSpec
from serve.errors import Unprocessable

_FORMATS = {
    "tensorflow_records": "tfrecord",
    "tfrecords": "tfrecord",
    "tf_records": "tfrecord",
    "tfrecord": "tfrecord",
    "parquet": "parquet",
    "npz": "npz",
    "numpy": "npz",
    "jsonl": "jsonl",
    "json_lines": "jsonl",
    "jsonlines": "jsonl",
}
_LEVELS = ("none", "low", "medium", "high")
KNOWN = ("format", "privacy_level", "privacyLevel", "size")


@dataclass
class Resolution:
    """How the requirements are honoured: per-node config overrides and a summary."""

    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    honoured: list[dict[str, Any]] = field(default_factory=list)


class RequirementUnmet(Unprocessable):
    type_slug = "requirement-unmet"


def refuse(requirement: str, value: Any, why: str) -> Unprocessable:
    return RequirementUnmet(
        f"dataRequirements.{requirement} {value!r} cannot be honoured: {why}",
        requirement=requirement,
        problems=[
            {"nodeId": None, "path": f"context.dataRequirements.{requirement}", "message": why}
        ],
    )


def resolve(spec: PipelineSpec, context: dict[str, Any]) -> Resolution:
    """Check ``context.dataRequirements`` against ``spec``.

    Raises:
        Unprocessable: 422 naming the first requirement the pipeline cannot honour.
    """
    reqs = context.get("dataRequirements")
    res = Resolution()
    if reqs is None:
        return res
    if not isinstance(reqs, dict):
        raise refuse("", reqs, "expected an object such as {format, privacy_level}")
    for key in reqs:
        if key not in KNOWN:
            raise refuse(key, reqs[key], f"unknown requirement; expected one of {', '.join(KNOWN)}")
    if "size" in reqs:
        raise refuse("size", reqs["size"], "no node of this pipeline sets the size of its output")
    if "format" in reqs:
        _format(spec, reqs["format"], res)
    for key in ("privacy_level", "privacyLevel"):
        if key in reqs:
            _privacy(spec, key, reqs[key], res)
    return res


def _format(spec: PipelineSpec, value: Any, res: Resolution) -> None:
    fmt = _FORMATS.get(str(value).lower()) if isinstance(value, str) else None
    if fmt is None:
        raise refuse(
            "format", value, "unknown format; expected one of " + ", ".join(sorted(_FORMATS))
        )
    training = [n for n in spec.nodes if n.type_key == "output/model_training"]
    if not training:
        written = _written_formats(spec)
        if written and set(written.values()) == {fmt}:  # every output already writes it
            res.honoured.append(
                {"requirement": "format", "value": value, "nodes": sorted(written), "format": fmt}
            )
            return
        raise refuse(
            "format",
            value,
            "the pipeline has no output/model_training node whose output format could be set",
        )
    for n in training:
        res.overrides.setdefault(n.id, {})["format"] = fmt
    res.honoured.append(
        {"requirement": "format", "value": value, "nodes": [n.id for n in training], "format": fmt}
    )


def _written_formats(spec: PipelineSpec) -> dict[str, str | None]:
    """The format each output node writes (its config's ``format``, or its default)."""
    from engine.registry import default_registry

    registry = default_registry()
    out: dict[str, str | None] = {}
    for n in spec.nodes:
        nt = registry.get(n.type_key)
        if n.nodeType != "output" or nt is None:
            continue
        try:
            cfg = nt.config_model.model_validate(n.config)
        except Exception:  # validation reports it; no format is known
            out[n.id] = None
            continue
        fmt = getattr(cfg, "format", None)
        out[n.id] = _FORMATS.get(str(fmt).lower()) if fmt is not None else None
    return out


def _privacy(spec: PipelineSpec, key: str, value: Any, res: Resolution) -> None:
    from engine.plan.compliance import REDACT, SYNTHETIC, frameworks, roles

    level = str(value).lower() if isinstance(value, str) else None
    if level not in _LEVELS:
        raise refuse(key, value, f"unknown level; expected one of {', '.join(_LEVELS)}")
    enforced = frameworks(spec)
    protecting = [nid for nid, role in roles(spec).items() if role in (REDACT, SYNTHETIC)]
    if level == "high" and not enforced:
        raise refuse(
            key,
            value,
            "the pipeline enforces no compliance framework (set complianceFramework on its "
            "privacy nodes, or tag the pipeline compliance:<FRAMEWORK>)",
        )
    if level == "medium" and not (enforced or protecting):
        raise refuse(key, value, "no node of the pipeline redacts or synthesizes the data")
    res.honoured.append(
        {"requirement": key, "value": value, "frameworks": enforced, "nodes": protecting}
    )
