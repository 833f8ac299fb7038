"""Privacy nodes: PII detection, redaction and synthetic data.

Importing the package registers the built-in pattern libraries and redaction rule sets
as catalog resources (``patterns_default``, ``patterns_healthcare``,
``patterns_finance``, ``rules_default``, ``rules_pseudonymize``).

May import: the node families below it (``nodes.sources``, ``nodes.transforms``,
``nodes.profile``) and the engine's SDK modules (``engine.registry``,
``engine.context``, ``engine.catalog``, ``engine.secrets``, ``engine.storage``,
``engine.spec``, ``engine.errors``). Never ``nodes.outputs``, ``serve``, nor
``engine.cli``, ``engine.service``, ``engine.run``, ``engine.plan``, ``engine.store``,
``engine.audit`` or ``engine.lineage``.
"""

from nodes.privacy import patterns as _patterns  # noqa: F401
from nodes.privacy import rules as _rules  # noqa: F401
