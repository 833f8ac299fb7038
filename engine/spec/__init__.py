"""Pipeline spec: models and loading. Imports no Ray.

May import: ``engine.errors`` only. Never the SDK modules, ``engine.store``,
``engine.plan``, ``engine.run`` or anything above them, ``nodes`` or ``serve``.
"""

from engine.spec.loader import load_spec, parse_spec
from engine.spec.models import (
    NodeSpec,
    OnError,
    PipelineSpec,
    ResourceHints,
    RetryPolicy,
)

__all__ = [
    "NodeSpec",
    "OnError",
    "PipelineSpec",
    "ResourceHints",
    "RetryPolicy",
    "load_spec",
    "parse_spec",
]
