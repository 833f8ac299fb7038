"""Lineage of runs: the API's lineage document and OpenLineage RunEvents.

Pure functions of a run result and its spec. May import ``engine.spec``, ``engine.errors``
and the SDK modules; never ``engine.run`` internals, ``engine.service`` or above.
"""
