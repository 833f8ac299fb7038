"""The one convention for stored times: ISO 8601 UTC text with six fractional digits.

``2026-01-15T14:30:00.123456Z`` is portable between SQLite and PostgreSQL and, being of
fixed width, sorts as text in time order. :func:`iso_from_epoch` and
:func:`epoch_from_iso` convert exactly between that text and epoch seconds (a float
with at most microsecond digits, as ``round(time.time(), 6)`` gives, survives the round
trip bit for bit); a float with more digits keeps them all in its fraction, so even
such a value converts back unchanged.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICRO = Decimal(1_000_000)


def iso_from_epoch(ts: float) -> str:
    """``ts`` (epoch seconds) as ISO 8601 UTC text, exactly (see :func:`epoch_from_iso`)."""
    exact = Decimal(repr(float(ts)))
    whole = int(exact.to_integral_value(rounding="ROUND_FLOOR"))
    fraction = exact - whole
    stamp = (_EPOCH + timedelta(seconds=whole)).strftime("%Y-%m-%dT%H:%M:%S")
    micros = fraction * _MICRO
    if micros == micros.to_integral_value():
        return f"{stamp}.{int(micros):06d}Z"
    digits = format(fraction, "f").partition(".")[2].rstrip("0")
    return f"{stamp}.{digits}Z"


def epoch_from_iso(text: str) -> float:
    """Epoch seconds of ISO 8601 UTC text (``Z`` or ``+00:00``); inverse of
    :func:`iso_from_epoch`.

    Raises:
        ValueError: ``text`` is not such a time.
    """
    body = text.strip()
    if body.endswith("Z"):
        body = body[:-1]
    elif body.endswith("+00:00"):
        body = body[: -len("+00:00")]
    main, _, digits = body.partition(".")
    if digits and not digits.isdigit():
        raise ValueError(f"not an ISO 8601 UTC time: {text!r}")
    base = datetime.strptime(main, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    whole = (base - _EPOCH) // timedelta(seconds=1)
    return float(Decimal(whole) + Decimal(f"0.{digits or '0'}"))


def now_iso() -> str:
    """The current UTC time as ``2026-01-15T14:30:00.123456Z``."""
    return iso_from_epoch(round(time.time(), 6))
