"""Failure analysis: what failed, where, and whether trying again can help.

Errors raised inside Ray tasks reach the driver wrapped (``RayTaskError`` and friends,
whose ``cause`` is the original, pickled exception). :func:`root_error` finds the
engine's own error (or the innermost user/library error) inside those wrappers;
:func:`error_node` reads the failing node from the error's ``node_id`` field
(:class:`~engine.errors.NodeError` keeps it across pickling); :func:`is_transient`
decides a retry policy's ``retryOn`` rules from the ``transient`` field; :func:`message`
is the one-line reason shown in status, webhooks and the CLI.

Structured fields are always read first. Text (``node 'x'`` in a message, class names
and words such as ``timeout`` or ``503``) is read only as a fallback, for foreign
errors that carry no fields: library errors, and errors raised in Ray Data map tasks,
whose ``UserCodeException`` wrapper loses its ``__cause__`` when pickled.
"""

from __future__ import annotations

import re
from typing import Any

from engine.errors import ExecutionCancelled, NodeConfigError, PipelineBuilderError

# Exception class names (anywhere in an error's chain or trace) that are transient.
TRANSIENT_NAMES = (
    "ConnectionError",
    "ConnectionResetError",
    "ConnectionRefusedError",
    "TimeoutError",
    "BrokenPipeError",
    "OperationalError",
    "ReadTimeout",
    "ConnectTimeout",
    "RemoteDisconnected",
    "ProtocolError",
    "ServiceUnavailable",
    "Throttling",
    "SlowDown",
    "TransientError",
    "ObjectLostError",
    "OwnerDiedError",
    "WorkerCrashedError",
    "NodeDiedError",
)
TRANSIENT_WORDS = (
    "timed out",
    "timeout",
    "temporarily unavailable",
    "connection reset",
    "connection refused",
    "too many requests",
    " 429",
    " 500",
    " 502",
    " 503",
    " 504",
    "throttl",
    "slow down",
)


def chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    queue = [exc]
    while queue:
        cur = queue.pop(0)
        if any(cur is s for s in seen):
            continue
        seen.append(cur)
        for nxt in (getattr(cur, "cause", None), cur.__cause__, cur.__context__):
            if isinstance(nxt, BaseException):
                queue.append(nxt)
    return seen


def is_transient(exc: BaseException, retry_on: list[str]) -> bool:
    """Whether ``exc`` counts as transient under a policy's ``retryOn`` list.

    ``any`` matches every error except configuration errors and cancellation;
    ``transient`` reads the ``transient`` field of the engine's errors in the chain
    (:attr:`NodeError.transient`) and, when none states it, recognises network errors,
    timeouts, throttling and 5xx answers; other entries are exception class names
    (also a wrapped error's ``cause_type``) matched anywhere in the error's chain.
    """
    errors = chain(exc)
    if any(isinstance(e, ExecutionCancelled | NodeConfigError) for e in errors):
        return False
    for rule in retry_on:
        if rule == "any":
            return True
        if rule == "transient":
            if counts_as_transient(errors):
                return True
        elif rule in class_names(errors) or _named_in_text(rule, errors):
            return True
    return False


def counts_as_transient(errors: list[BaseException]) -> bool:
    """The ``transient`` field an engine error states; the text fallback when none does."""
    declared = declared_transient(errors)
    return looks_transient(errors) if declared is None else declared


def declared_transient(errors: list[BaseException]) -> bool | None:
    """The first ``transient`` an engine error in the chain states (None: none does)."""
    for e in errors:
        flag = getattr(e, "transient", None) if isinstance(e, PipelineBuilderError) else None
        if isinstance(flag, bool):
            return flag
    return None


def class_names(errors: list[BaseException]) -> set[str]:
    """Class names in the chain (with their bases) and the ``cause_type`` fields."""
    names = {cls.__name__ for e in errors for cls in type(e).__mro__}
    for e in errors:
        cause = getattr(e, "cause_type", None) if isinstance(e, PipelineBuilderError) else None
        if isinstance(cause, str):
            names.add(cause)
    return names


def looks_transient(errors: list[BaseException]) -> bool:
    """Text fallback for foreign errors that state nothing: class names and words.

    Library errors (httpx, boto, database drivers) and Ray's wrappers carry no
    ``transient`` field; Ray Data's ``UserCodeException`` also drops its ``__cause__``
    when pickled, so an error raised in a map task reaches the driver as trace text
    only. For those, and only when no engine error in the chain says either way, the
    class names and the usual words of network errors, timeouts and 5xx answers decide.
    """
    if class_names(errors) & set(TRANSIENT_NAMES):
        return True
    text = _chain_text(errors)
    if any(n in text for n in TRANSIENT_NAMES):
        return True
    low = text.lower()
    return any(w in low for w in TRANSIENT_WORDS)


def _chain_text(errors: list[BaseException]) -> str:
    return " ".join(f"{type(e).__name__}: {e}" for e in errors)


def _named_in_text(name: str, errors: list[BaseException]) -> bool:
    """Text fallback: ``name`` as an exception class in a wrapped task's trace text."""
    text = _chain_text(errors)
    return f"{name}:" in text or f"{name}(" in text


def error_node(exc: BaseException) -> str | None:
    """The failing node: :func:`node_field`, else (text fallback) :func:`node_named_in_text`."""
    return node_field(exc) or node_named_in_text(str(exc))


def node_field(exc: BaseException) -> str | None:
    """The first ``node_id`` field of an engine error in the chain of ``exc``.

    :class:`~engine.errors.NodeError` keeps ``node_id`` across Ray's pickling, and
    :func:`chain` follows ``RayTaskError.cause`` to the original error.
    """
    for e in chain(exc):
        nid = getattr(e, "node_id", None) if isinstance(e, PipelineBuilderError) else None
        if isinstance(nid, str):
            return nid
    return None


def node_named_in_text(text: str) -> str | None:
    """Text fallback, only for errors whose chain carries no ``node_id`` field: the
    first ``node 'x'`` (how every NodeError message starts) in ``text``.

    Needed for foreign wrappers: Ray Data's ``UserCodeException`` loses its
    ``__cause__`` when pickled, so a NodeError raised in a map task reaches the driver
    as trace text only.
    """
    m = _NODE_IN_MESSAGE.search(text)
    return m.group(1) if m else None


def describe(exc: BaseException) -> str:
    """A one-line description of a failure (the original error inside Ray's wrappers)."""
    return message(root_error(exc))[:500]


def root_error(exc: BaseException) -> BaseException:
    """The engine error inside Ray's wrappers (RayTaskError, UserCodeException...).

    Searches ``cause`` (RayTaskError), ``__cause__`` and ``__context__`` breadth-first;
    falls back to the innermost non-Ray exception, then to ``exc``.
    """
    seen: set[int] = set()
    queue: list[BaseException] = [exc]
    inner: BaseException | None = None
    while queue:
        cur = queue.pop(0)
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        if isinstance(cur, PipelineBuilderError) and not type(cur).__name__.startswith("RayTask"):
            return cur
        if not type(cur).__module__.startswith("ray") and not isinstance(cur, StopIteration):
            inner = inner or cur
        for nxt in (getattr(cur, "cause", None), cur.__cause__, cur.__context__):
            if isinstance(nxt, BaseException):
                queue.append(nxt)
    return inner or exc


_TRACE_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Failed|Cancelled)): (.+)$", re.M)
_NODE_IN_MESSAGE = re.compile(r"node '([^']+)'")


def message(err: BaseException) -> str:
    """A one-line message; for Ray's wrappers, the original error's line from its trace."""
    if isinstance(err, PipelineBuilderError) and not type(err).__name__.startswith("RayTask"):
        return sanitize(str(err))
    text = _ANSI.sub("", str(err))
    for m in _TRACE_LINE.finditer(text):
        name, msg = m.group(1), m.group(2).strip()
        if not name.startswith("ray."):
            short = name.rsplit(".", 1)[-1]
            return sanitize(msg if name.startswith("engine.errors.") else f"{short}: {msg}")
    lines = text.strip().splitlines()
    return sanitize(f"{type(err).__name__}: {lines[-1] if lines else ''}")


_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
# An absolute local path (not the path part of a URL): shown by its last component.
_ABS_PATH = re.compile(r"(?<![\w:/.~-])/(?:[\w.@+=~-]+/)+([\w.@+=~-]*)")


def sanitize(text: str, limit: int = 500) -> str:
    """``text`` fit for status, webhooks and logs read by others: one line, no terminal
    colour codes, no server paths (an absolute path becomes its last component),
    at most ``limit`` characters. The full trace stays in the run's ``trace.txt``."""
    text = _ANSI.sub("", text)
    lines = [ln.strip().removeprefix("- ") for ln in text.splitlines() if ln.strip()]
    # A list of problems (``ValidationFailed``) stays whole, on one line.
    line = (lines[0] + " " + "; ".join(lines[1:])).strip() if lines else ""
    line = _ABS_PATH.sub(lambda m: m.group(1) or "/", line)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def keep_trace(exc: BaseException, home: Any, execution_id: str) -> Any:
    """Write the full trace of a failed run to ``<home>/executions/<id>/trace.txt``."""
    import traceback
    from pathlib import Path

    path = Path(home) / "executions" / execution_id / "trace.txt"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = "".join(traceback.format_exception(exc))
        for e in chain(exc)[1:]:
            inner = getattr(e, "traceback_str", None)
            if isinstance(inner, str):
                text += "\n" + inner
        path.write_text(_ANSI.sub("", text))
    except OSError:
        return None
    return path


def failing_node(exc: BaseException, message: str) -> str | None:
    """The node a failed run names: :func:`node_field` of ``exc``; else (text fallback
    for errors that carry no fields) the ``node 'x'`` starting the run's one-line
    ``message``, then any in the error's text."""
    found = node_field(exc)
    if found is not None:
        return found
    m = _NODE_IN_MESSAGE.match(message)
    return m.group(1) if m else node_named_in_text(str(exc))
