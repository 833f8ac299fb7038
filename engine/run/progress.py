"""Live progress of a run: expected input size, completion estimate, committed outputs.

**Expected input.** Known before any data is read, from metadata only:

- a source node may report ``expectedRows`` and/or ``expectedBytes`` facts
  (``ctx.report``): a row-count query, an API's total, a manifest;
- otherwise, for a local ``location``: Parquet footers give the row count; CSV and
  JSON Lines files give their byte size and an expected row count: their lines when
  they hold at most 16 MiB, else the size divided by the average line length of the
  first and last 64 KiB of the first file (read once, by the progress thread after the
  run started, never while the graph is built; a quoted field spanning lines makes it
  an estimate).
  Compressed text files give no row estimate (their line length is not known from
  their size).

**Estimated completion.** With ``E`` expected rows and ``t0`` the time the first block
was counted, ``s = rows read / E`` (1 once the sources are done) and ``l`` is the
smallest, over the nodes outputs and leaves read, of ``its rows / E`` (1 for a node that
is done; ``s / 2`` while it has produced nothing yet). The rows between the two are in
flight and count half: the fraction done is ``p = (s + l) / 2``. The run is expected to
finish at ``t0 + (now - t0) / p`` (the observed rate, extrapolated);
each progress event refines it. No estimate (``null``) until a first block is counted,
or when some source has no expected size. A node that drops many rows makes the
estimate late until that node is done.

**Committed outputs.** An output's ``rows`` are what its sink committed (the sink's own
count from its manifest or the Parquet footers it wrote), else the Parquet footers of
the committed location; ``size`` is the bytes of the committed data files.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_HEAD_BYTES = 64 * 1024
_EXACT_BYTES = 16 * 1024 * 1024
_MAX_FILES = 10_000
_COMPRESSED = (".gz", ".bz2", ".zst", ".zstd", ".lz4", ".br", ".xz")


def _local_path(location: str | None) -> Path | None:
    if not location:
        return None
    if location.startswith("file://"):
        location = location[len("file://") :]
    if "://" in location:
        return None
    p = Path(location)
    return p if p.exists() else None


def data_files(location: str | None) -> list[Path]:
    """The data files of a local file or folder (hidden and ``_``-prefixed files skipped)."""
    p = _local_path(location)
    if p is None:
        return []
    if p.is_file():
        return [p]
    out = []
    for f in sorted(p.rglob("*")):
        rel = f.relative_to(p).parts
        if f.is_file() and not any(part.startswith((".", "_")) for part in rel):
            out.append(f)
            if len(out) >= _MAX_FILES:
                break
    return out


def expected_input(facts: dict[str, Any]) -> dict[str, int | None]:
    """``{"rows", "bytes"}`` a source is expected to read (None when unknown)."""
    rows = facts.get("expectedRows")
    size = facts.get("expectedBytes")
    rows = int(rows) if isinstance(rows, int | float) and not isinstance(rows, bool) else None
    size = int(size) if isinstance(size, int | float) and not isinstance(size, bool) else None
    if rows is not None and size is not None:
        return {"rows": rows, "bytes": size}
    files = data_files(facts.get("location"))
    if not files:
        return {"rows": rows, "bytes": size}
    try:
        if size is None:
            size = sum(f.stat().st_size for f in files)
        if rows is None:
            rows = _expected_rows(files, str(facts.get("format") or ""))
    except OSError as exc:
        log.debug("no expected size for %s: %s", facts.get("location"), exc)
    return {"rows": rows, "bytes": size}


def _expected_rows(files: list[Path], fmt: str) -> int | None:
    if fmt == "parquet" or all(f.suffix == ".parquet" for f in files):
        import pyarrow.parquet as pq

        return sum(pq.read_metadata(f).num_rows for f in files)
    if fmt not in ("csv", "jsonl") or any(f.name.endswith(_COMPRESSED) for f in files):
        return None
    total = sum(f.stat().st_size for f in files)
    if total <= _EXACT_BYTES:  # small inputs: count their lines
        lines = 0
        for f in files:
            with f.open("rb") as fh:
                lines += sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
        return max(lines - (len(files) if fmt == "csv" else 0), 0)
    with files[0].open("rb") as fh:
        head = fh.read(_HEAD_BYTES)
        size = files[0].stat().st_size
        tail = b""
        if size > 2 * _HEAD_BYTES:  # line lengths often grow along a file (ids, dates)
            fh.seek(size - _HEAD_BYTES)
            tail = fh.read(_HEAD_BYTES)
    lines = head.count(b"\n") + tail.count(b"\n")
    if lines < 2:
        return None
    if len(head) < _HEAD_BYTES and len(files) == 1:  # the whole file was read
        return max(lines - (1 if fmt == "csv" else 0), 0)
    per_line = (len(head) + len(tail)) / lines
    headers = len(files) if fmt == "csv" else 0
    return max(int(total / per_line) - headers, 0)


def estimate_completion(
    *, now: float, first_row_at: float | None, fraction: float | None
) -> float | None:
    """Epoch seconds the run is expected to finish at (see the module docs), or None."""
    if first_row_at is None or not fraction or fraction <= 0:
        return None
    fraction = min(fraction, 0.999)
    elapsed = max(now - first_row_at, 1e-3)
    return max(first_row_at + elapsed / fraction, now)


def fraction_done(
    rows: dict[str, int], *, sources: set[str], last: set[str], done: set[str], expected: int | None
) -> float | None:
    """Share of the work done: the slowest of the sources and the nodes the terminals read.

    Each is ``rows / expected`` (1 once the node is done). A node that has produced
    nothing yet while its input flows counts as half as far as the sources (a stage
    that emits its first block late, e.g. a slow one fused with the read). A node that
    drops rows makes the estimate cautious (later) until it is done.
    """
    if not expected:
        return None
    read = sum(rows.get(s, 0) for s in sources)
    source_part = min(1.0 if sources <= done else read / expected, 1.0)
    parts = [source_part]
    for n in last:
        if n in done:
            parts.append(1.0)
        elif rows.get(n, 0) > 0:
            parts.append(min(rows[n] / expected, 1.0))
        else:
            parts.append(source_part / 2)
    slowest = min(parts)
    # Rows between the sources and the slowest stage are in flight: half done, on average
    # (a stage emits a task's rows when the task ends, so its own count lags).
    return max((source_part + slowest) / 2, 0.0)


def committed_output(facts: dict[str, Any]) -> dict[str, int]:
    """``rows`` (when countable) and ``size`` of what an output committed."""
    out: dict[str, int] = {}
    files = data_files(facts.get("location"))
    if files:
        out["size"] = sum(f.stat().st_size for f in files)
        out["fileCount"] = len(files)
    rows = facts.get("rows")
    if isinstance(rows, int) and not isinstance(rows, bool):
        out["rows"] = rows
    elif files and (facts.get("format") == "parquet" or all(f.suffix == ".parquet" for f in files)):
        import pyarrow.parquet as pq

        try:
            out["rows"] = sum(pq.read_metadata(f).num_rows for f in files)
        except Exception as exc:  # a non-Parquet file in the folder
            log.debug("no Parquet row count for %s: %s", facts.get("location"), exc)
    return out
