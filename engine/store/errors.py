"""Errors of the metadata store.

::

    StoreError            (a PipelineBuilderError)
    ├── NotFoundError     the pipeline, version, resource, execution or key does not exist
    └── ConflictError     the write conflicts with what is stored (id taken, state changed)
"""

from __future__ import annotations

from engine.errors import PipelineBuilderError


class StoreError(PipelineBuilderError):
    """Base class of metadata-store errors."""


class NotFoundError(StoreError):
    """A stored object does not exist."""


class ConflictError(StoreError):
    """A write conflicts with the stored state."""
