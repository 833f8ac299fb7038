"""Node types, one module (or sub-package) per node family.

:func:`load_all` is this distribution's ``pipeline_builder.nodes`` entry point: it
imports every public module below this package, whose ``@register`` decorators fill the
engine's default registry, and declares the compliance frameworks. Modules import no Ray
(or other heavy library) at import time; build functions import what they need.
Private helper modules (``_name``) may import Ray and are never imported here.

May import: the engine's SDK modules (``engine.registry``, ``engine.context``,
``engine.catalog``, ``engine.secrets``, ``engine.storage``, ``engine.spec``,
``engine.errors``) and ``engine.webhooks`` (notification channels). Never ``serve``.

Errors: node failures are the engine's :class:`engine.errors.NodeError` family (with
the node id as a field); what the node families add::

    engine.errors.PipelineBuilderError
    ├── DeploymentError          (nodes.outputs.versions) an environment deploy failed
    │   └── ConcurrentDeployment another deploy of the environment holds its lock
    ├── DecryptError             (nodes.privacy.keys_cli) a value cannot be decrypted
    └── GazetteerError           (nodes.privacy.gazetteer) the names table cannot be
                                 built (names-dataset missing or unreadable)
    ValueError
    └── ExpressionError          (nodes.transforms._expr) a derived-column expression is
                                 invalid (raised at validation, reported as a Problem)
    Exception
    └── Violation                (nodes.privacy.batch) internal: redaction found a
                                 required identifier kept; re-raised as the node's
                                 NodeError, never leaves the node
    UserWarning
    └── NerUnavailableWarning    (nodes.privacy.presidio_bridge) a warning, not an
                                 error: no spaCy model, detection uses patterns only
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any


def load_all(registry: Any) -> None:
    """Import every public node module and declare the frameworks in ``registry``."""
    for mod in pkgutil.walk_packages(__path__, prefix=f"{__name__}."):
        if any(part.startswith("_") for part in mod.name.split(".")):
            continue
        importlib.import_module(mod.name)
    from nodes.privacy.frameworks import FRAMEWORKS

    for fw in FRAMEWORKS.values():
        registry.add_framework(fw.name, list(fw.required))
    _declare_privacy_resource_keys()


def _declare_privacy_resource_keys() -> None:
    """The keys of the privacy family's catalog resources (see nodes.privacy.rules,
    nodes.privacy.patterns and nodes.privacy.synthetic.template for their shapes)."""
    from engine.catalog import declare_keys
    from nodes.privacy.synthetic.template import SyntheticTemplate

    declare_keys("redactionRules", ("rules", "default", "keyRef"))
    declare_keys(
        "patternLibraries",
        (
            "extends",
            "ner",
            "patterns",
            "columnHints",
            "denyList",
            "allowList",
            "entities",
            "recognizers",
        ),
    )
    declare_keys("syntheticTemplates", SyntheticTemplate.model_fields)
