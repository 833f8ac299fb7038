"""Transform nodes: field mapping, validation, format conversion, join, union.

May import: ``nodes.profile`` and the engine's SDK modules (``engine.registry``,
``engine.context``, ``engine.catalog``, ``engine.secrets``, ``engine.storage``,
``engine.spec``, ``engine.errors``). Never ``nodes.outputs``, ``nodes.privacy``,
``nodes.sources``, ``serve``, nor ``engine.cli``, ``engine.service``, ``engine.run``,
``engine.plan``, ``engine.store``, ``engine.audit`` or ``engine.lineage``.
"""
