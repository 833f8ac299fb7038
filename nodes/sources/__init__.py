"""Source nodes: files, databases, SQL queries, HTTP APIs.

May import: the node families below it (``nodes.transforms``, ``nodes.profile``) and the
engine's SDK modules (``engine.registry``, ``engine.context``, ``engine.catalog``,
``engine.secrets``, ``engine.storage``, ``engine.backoff``, ``engine.egress``,
``engine.roots``, ``engine.spec``, ``engine.errors``). Never ``nodes.outputs``,
``nodes.privacy``, ``serve``, nor ``engine.cli``, ``engine.service``, ``engine.run``,
``engine.plan``, ``engine.store``, ``engine.audit`` or ``engine.lineage``.
"""
