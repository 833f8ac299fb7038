"""Append-only, hash-chained audit trail (see :mod:`engine.audit.log`)."""

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
