"""Validation and planning: from a parsed spec to the one :class:`~engine.plan.planner.Plan`.

Ray-free. The plan (graph, order, parsed configs) is the only hand-off to compilation.

May import: ``engine.spec``, ``engine.errors`` and the SDK modules (``engine.registry``,
``engine.catalog``, ``engine.context``, ``engine.secrets``, ``engine.storage``).
"""
