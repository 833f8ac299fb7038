"""Executions as a service: records in the metadata store, resume, the reaper, observers.

What the CLI, the API and driver scripts share around a run: which observers attach
(audit, webhooks, lineage, checkpoints), how a run record is kept and resumed whichever
entry point started it.

May import: ``engine.run`` and everything below it, ``engine.store``, ``engine.audit``,
``engine.webhooks``, ``engine.lineage``. Never ``engine.cli``, ``nodes`` or ``serve``.
"""
