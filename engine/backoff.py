"""The one exponential-backoff rule every retrying place uses. Ray-free, no state.

Retry number ``attempt`` (1-based) waits ``d = min(max_delay, initial * multiplier **
(attempt - 1))`` seconds; with ``jitter`` the wait is drawn uniformly from ``[d/2, d]``
("equal jitter"), so many clients failing together do not retry in lockstep. Used by
node retry policies (:mod:`engine.run.recovery`), webhook delivery, notification
channels and the HTTP client of API sources.
"""

from __future__ import annotations

import random


def backoff_delay(
    attempt: int,
    *,
    initial: float,
    max_delay: float,
    multiplier: float = 2.0,
    jitter: bool = True,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based); see module docs."""
    d = min(max_delay, initial * multiplier ** max(0, attempt - 1))
    if not jitter:
        return d
    return (rng or random).uniform(d / 2, d)
