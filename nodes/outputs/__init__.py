"""Output nodes: archive, environments (deploy, rollback), gates, model training,
residual scan, TFRecord.

May import: the node families below it (``nodes.privacy``, ``nodes.sources``,
``nodes.transforms``, ``nodes.profile``), the engine's SDK modules (``engine.registry``,
``engine.context``, ``engine.catalog``, ``engine.secrets``, ``engine.storage``,
``engine.spec``, ``engine.errors``) and ``engine.webhooks``. Never ``serve``, nor
``engine.cli``, ``engine.service``, ``engine.run``, ``engine.plan``, ``engine.store``,
``engine.audit`` or ``engine.lineage``.
"""
