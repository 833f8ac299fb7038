"""Append-only, hash-chained audit trail (see :mod:`engine.audit.log`).

May import: ``engine.run`` and everything below it (``engine.plan``, ``engine.store``,
the SDK modules, ``engine.spec``, ``engine.errors``). Never its sibling observers
``engine.lineage`` and ``engine.webhooks``, nor ``engine.service``, ``engine.cli``,
``nodes`` or ``serve``.
"""

from engine.audit.log import (
    AuditEntry,
    AuditLog,
    VerifyReport,
    audit_engine,
    default_log,
    list_entries,
    record,
    retention_days,
    verify,
)

__all__ = [
    "AuditEntry",
    "AuditLog",
    "VerifyReport",
    "audit_engine",
    "default_log",
    "list_entries",
    "record",
    "retention_days",
    "verify",
]
