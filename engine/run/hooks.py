"""Typed lifecycle hooks of a run: how audit, webhooks, lineage and stores follow it.

An observer subclasses :class:`RunObserver` and overrides the hooks it needs; every hook
takes keyword arguments only and accepts ``**future`` so that new arguments never break
an observer. Observers never break a run: an exception in a hook is logged and ignored.
The runner knows only this interface; which observers attach is decided by the caller
(:func:`engine.service.observers.default_observers` for the CLI, the API and drivers).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.catalog import Catalog
    from engine.context import RunOptions
    from engine.run.result import RunEvent, RunResult
    from engine.spec.models import PipelineSpec

log = logging.getLogger(__name__)


class RunObserver:
    """Base class of run observers; every hook is optional."""

    def run_started(
        self,
        *,
        execution_id: str,
        spec: PipelineSpec,
        catalog: Catalog,
        options: RunOptions,
        **future: Any,
    ) -> None:
        """The run was validated and planned and is about to compile and stream."""

    def run_event(self, *, event: RunEvent, **future: Any) -> None:
        """Any run event (progress, node_finished, retry, fallback, ...)."""

    def run_finished(
        self,
        *,
        execution_id: str,
        spec: PipelineSpec,
        options: RunOptions,
        result: RunResult,
        **future: Any,
    ) -> None:
        """The run ended (``result.status`` is completed, failed or cancelled)."""


def notify(observers: Sequence[RunObserver], hook: str, **kwargs: Any) -> None:
    """Call ``hook`` on every observer, logging (never raising) their failures."""
    for obs in observers:
        try:
            getattr(obs, hook)(**kwargs)
        except Exception:
            log.exception("run observer %s failed in %s", type(obs).__name__, hook)
