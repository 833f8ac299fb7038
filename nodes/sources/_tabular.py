"""Reading CSV and JSON Lines files row-exactly: named errors, row policies, one schema.

What a reader of many files expects and Arrow's readers do not give on their own:

- **Errors name the node, the file and the line** (``node 'load': people.csv line 41:
  expected 4 columns, found 5``), never a bare parser message.
- **Bad rows follow the node's** ``onError``: ``fail`` stops the run; ``drop``/``skip``
  drops the row and counts it (``droppedRows``); ``quarantine`` writes it, with the
  file, line, raw text and reason, as Parquet under the node's artifact folder
  (``quarantine/``) and counts it (``quarantinedRows``). A bad row is a ragged CSV
  row, a JSON Lines line that does not parse, or a value that is not valid UTF-8.
- **Empty fields are null** (``nullValues``, default ``[""]``), as pandas, Polars,
  DuckDB and Spark read them.
- **One schema for all files** (``schemaDrift``): before the first block is read the
  first block of every input file is inspected (on the driver, at the start of the
  run, never while the graph is built). ``merge`` (the default) unifies the columns by
  name; a file that lacks a column gets nulls, types are widened (int -> float ->
  string) and a warning listing the differing files is recorded in the node's
  ``warnings``. ``fail`` stops the run naming the first file whose columns differ.
- A column whose first block is empty everywhere reads as ``string`` (not ``null``,
  which would reject the first value seen later).
"""

from __future__ import annotations

import io
import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from engine.errors import NodeError

PROBE_BLOCK = 1 << 20  # bytes of each file inspected for its columns and types
PROBE_MAX = 8 << 20  # ...read on to this when a quoted value runs past the first block
READ_BLOCK = 4 << 20  # bytes per parsed block
QUARANTINE_COLUMNS = ("_file", "_line", "_raw", "_quarantine_reason")


class Warnings:
    """Mergeable list of warning lines recorded in a node's ``states``."""

    def __init__(self, lines: list[str] | None = None) -> None:
        self.lines = list(lines or [])

    def merge(self, other: Warnings) -> Warnings:
        return Warnings(self.lines + [x for x in other.lines if x not in self.lines])

    def to_dict(self) -> list[str]:
        return self.lines


class SchemaState:
    """A node's planned output columns, kept in the run's metrics (first one wins); an
    output whose input has no rows takes its columns from here."""

    def __init__(self, schema: pa.Schema) -> None:
        self.columns = [[f.name, str(f.type)] for f in schema]

    def merge(self, other: SchemaState) -> SchemaState:
        return self

    def to_dict(self) -> list[list[str]]:
        return self.columns


@dataclass
class ReadPolicy:
    """How one source node reads its files (picklable; shipped with the read tasks)."""

    node_id: str
    fmt: str
    on_error: str = "fail"
    delimiter: str | None = None
    null_values: list[str] = field(default_factory=lambda: [""])
    column_types: dict[str, str] = field(default_factory=dict)
    schema_drift: str = "merge"
    root: str = ""  # the configured location; files are named relative to its parent
    quarantine_uri: str | None = None
    metrics: Any = None
    # Filled at the start of the run by :func:`plan_schema`.
    schema: pa.Schema | None = None

    def name(self, path: str) -> str:
        """The file as messages show it: relative to the configured location's parent."""
        if "://" in path:  # a URL: without credentials or query string
            from urllib.parse import urlsplit

            u = urlsplit(path)
            host = u.hostname or ""
            return f"{u.scheme}://{host}{f':{u.port}' if u.port else ''}{u.path}"
        base = os.path.dirname(self.root.rstrip("/"))
        try:
            rel = os.path.relpath(path, base) if base else os.path.basename(path)
        except ValueError:
            rel = os.path.basename(path)
        return os.path.basename(path) if rel.startswith("..") else rel

    def error(self, path: str, what: str) -> NodeError:
        return NodeError(self.node_id, f"{self.name(path)} {what}")

    def record_schema(self, schema: pa.Schema | None) -> None:
        if self.metrics is not None and schema is not None:
            self.metrics.merge_state(self.node_id, "schema", SchemaState(schema))

    def count(self, counters: dict[str, float]) -> None:
        if self.metrics is not None and counters:
            self.metrics.add(self.node_id, counters)

    def warn(self, line: str) -> None:
        if self.metrics is not None:
            self.metrics.merge_state(self.node_id, "warnings", Warnings([line]))


@dataclass
class BadRow:
    line: int | None
    raw: str
    reason: str
    fatal: bool = False  # the file cannot be read past this row whatever onError says


def handle_bad_rows(policy: ReadPolicy, path: str, bad: list[BadRow]) -> None:
    """Apply ``onError`` to rows that could not be read (raises under ``fail``)."""
    if not bad:
        return
    fatal = [b for b in bad if b.fatal]
    if policy.on_error == "fail" or fatal:
        b = (fatal or bad)[0]
        where = f"line {b.line}" if b.line is not None else "a row"
        more = f" ({len(bad) - 1} more bad rows in this block)" if len(bad) > 1 else ""
        raise policy.error(path, f"{where}: {b.reason}{more}")
    if policy.on_error == "quarantine" and policy.quarantine_uri:
        _write_quarantine(policy, path, bad)
        policy.count({"quarantinedRows": len(bad)})
    else:
        policy.count({"droppedRows": len(bad)})


def _write_quarantine(policy: ReadPolicy, path: str, bad: list[BadRow]) -> None:
    import pyarrow.parquet as pq

    from engine.storage import filesystem

    table = pa.table(
        {
            "_file": [policy.name(path)] * len(bad),
            "_line": pa.array([b.line for b in bad], pa.int64()),
            "_raw": [b.raw for b in bad],
            "_quarantine_reason": [b.reason for b in bad],
        }
    )
    fs, root = filesystem(policy.quarantine_uri or "")
    fs.create_dir(root, recursive=True)
    name = f"part-{uuid.uuid4().hex}.parquet"
    pq.write_table(table, f"{root}/.staging-{name}", filesystem=fs)
    fs.move(f"{root}/.staging-{name}", f"{root}/{name}")


# -- schema across files ---------------------------------------------------------------


def _widen(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    if a == b:
        return a
    if pa.types.is_null(a):
        return b
    if pa.types.is_null(b):
        return a
    try:
        return (
            pa.unify_schemas(
                [pa.schema([("x", a)]), pa.schema([("x", b)])], promote_options="permissive"
            )
            .field("x")
            .type
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return pa.string()


def plan_schema(
    policy: ReadPolicy, files: list[str], probe: Callable[[str], pa.Schema | None]
) -> pa.Schema | None:
    """The one schema every file is read into (see the module docs); records drift."""
    seen: list[tuple[str, list[str]]] = []
    fields: dict[str, pa.DataType] = {}
    for path in files:
        schema = probe(path)
        if schema is None:  # empty or unreadable: its own read reports it
            continue
        seen.append((path, schema.names))
        for f in schema:
            fields[f.name] = _widen(fields.get(f.name, pa.null()), f.type)
    if not seen:
        return None
    first_path, first = seen[0]
    differing = [(p, n) for p, n in seen[1:] if set(n) != set(first)]
    if differing:
        path, names = differing[0]
        lacks = [c for c in fields if c not in names]
        adds = [c for c in names if c not in first]
        detail = []
        if lacks:
            detail.append(f"lacks {', '.join(repr(c) for c in lacks[:5])}")
        if adds:
            detail.append(f"adds {', '.join(repr(c) for c in adds[:5])}")
        summary = (
            f"{policy.name(path)} has other columns than {policy.name(first_path)} "
            f"({'; '.join(detail)})"
        )
        if policy.schema_drift == "fail":
            raise NodeError(
                policy.node_id,
                f"{summary}; expected the same columns in every file "
                "(set schemaDrift: merge to merge them by name)",
            )
        others = f" and {len(differing) - 1} more files" if len(differing) > 1 else ""
        policy.warn(f"schema drift: {summary}{others}; merged by name, missing values are null")
        policy.count({"schemaDriftFiles": len(differing)})
    for name, t in policy.column_types.items():
        fields[name] = pa.type_for_alias(t)
    return pa.schema([(n, pa.string() if pa.types.is_null(t) else t) for n, t in fields.items()])


def conform(table: pa.Table, schema: pa.Schema | None, policy: ReadPolicy, path: str) -> pa.Table:
    """``table`` with the planned columns, in order, typed as planned (nulls if absent)."""
    if schema is None:
        return table
    cols, names = [], []
    for f in schema:
        if f.name in table.column_names:
            col = table.column(f.name)
            if col.type != f.type:
                try:
                    col = col.cast(f.type)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                    raise policy.error(
                        path, f"column '{f.name}': cannot read as {f.type} ({exc})"
                    ) from None
            cols.append(col)
        else:
            cols.append(pa.nulls(table.num_rows, f.type))
        names.append(f.name)
    for name in table.column_names:  # columns first seen after the inspected block
        if name not in schema.names:
            cols.append(table.column(name))
            names.append(name)
    return pa.Table.from_arrays(cols, names=names)


# -- UTF-8 -----------------------------------------------------------------------------


def invalid_utf8_rows(table: pa.Table) -> dict[int, str]:
    """Row index -> column name, for string values that are not valid UTF-8."""
    bad: dict[int, str] = {}
    for name in table.column_names:
        col = table.column(name)
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            continue
        try:
            col.validate(full=True)
            continue
        except pa.ArrowInvalid:
            pass
        # Only a column that failed validation is looked at value by value.
        for i, v in enumerate(col.cast(pa.binary()).to_pylist()):
            if v is not None and i not in bad:
                try:
                    v.decode("utf-8")
                except UnicodeDecodeError:
                    bad[i] = name
    return bad


def _raw(value: bytes | str) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="backslashreplace")
    return value


# -- CSV -------------------------------------------------------------------------------


def probe_csv(f: Any, policy: ReadPolicy) -> pa.Schema | None:
    """The columns and types of a CSV file, inferred from its first :data:`PROBE_BLOCK`
    bytes (whole lines).

    Only those bytes are read: Arrow's streaming reader, given the file itself, reads
    several blocks ahead (8 MiB per file), which the run's planning paid for every file.
    A quoted value that runs past the first block is read on, up to
    :data:`PROBE_MAX` bytes.
    """
    head = f.read(PROBE_BLOCK)
    if len(head) == PROBE_BLOCK:
        cut = head.rfind(b"\n")
        if cut > 0:
            try:
                return _csv_schema(head[: cut + 1], policy)
            except pa.ArrowInvalid:
                pass  # a quoted value runs past the cut
        head += f.read(PROBE_MAX - PROBE_BLOCK)
    try:
        return _csv_schema(head, policy)
    except (pa.ArrowInvalid, OSError):
        return None


def _csv_schema(data: bytes, policy: ReadPolicy) -> pa.Schema:
    import pyarrow.csv as pacsv

    reader = pacsv.open_csv(
        pa.BufferReader(data),
        read_options=pacsv.ReadOptions(use_threads=False, block_size=PROBE_BLOCK),
        parse_options=_csv_parse(policy, lambda row: "skip"),
        convert_options=_csv_convert(policy, None),
    )
    return reader.schema


def _csv_parse(policy: ReadPolicy, handler: Callable[[Any], str]) -> Any:
    import pyarrow.csv as pacsv

    # Quoted values may hold line breaks (RFC 4180); Arrow then splits blocks with a
    # quote-aware chunker.
    kwargs: dict[str, Any] = {"invalid_row_handler": handler, "newlines_in_values": True}
    if policy.delimiter:
        kwargs["delimiter"] = policy.delimiter
    return pacsv.ParseOptions(**kwargs)


def _csv_convert(policy: ReadPolicy, schema: pa.Schema | None) -> Any:
    import pyarrow.csv as pacsv

    types = {f.name: f.type for f in schema} if schema is not None else {}
    return pacsv.ConvertOptions(
        null_values=policy.null_values,
        strings_can_be_null=True,
        check_utf8=False,  # checked per block below, so bad values follow onError
        column_types=types,
    )


def read_csv(
    f: Any, path: str, policy: ReadPolicy, reopen: Callable[[str], Any] | None = None
) -> Iterator[pa.Table]:
    """Stream one CSV file as conformed Arrow tables (see the module docs).

    ``reopen(path)`` opens the file again for a diagnostic pass after a parse failure
    (to find the line of an unbalanced quote).
    """
    import pyarrow.csv as pacsv

    bad: list[BadRow] = []

    def on_invalid(row: Any) -> str:
        text = row.text or ""
        delimiter = (policy.delimiter or ",").encode()
        if first_unbalanced_quote(io.BytesIO(text.encode()), delimiter) is not None:
            # A quote opened and never closed took the following lines into this row.
            bad.append(BadRow(row.number, text[:200], _UNBALANCED, fatal=True))
        else:
            bad.append(
                BadRow(
                    row.number,
                    text,
                    f"expected {row.expected_columns} columns, found {row.actual_columns}",
                )
            )
        return "skip"

    lines_done = 1  # the header
    yielded = False
    tail: dict[str, bytes | None] = {}
    try:
        reader = pacsv.open_csv(
            f,
            read_options=pacsv.ReadOptions(use_threads=False, block_size=READ_BLOCK),
            parse_options=_csv_parse(policy, on_invalid),
            convert_options=_csv_convert(policy, policy.schema),
        )
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            table = pa.Table.from_batches([batch])
            if _runs_to_end(table, lambda: tail.setdefault("t", _file_tail(path, reopen))):
                # A quote opened and never closed took the rest of the file as a value.
                where = _quote_line(path, lines_done, reopen, policy.delimiter)
                raise policy.error(path, f"{where}: {_UNBALANCED}")
            good, utf8_bad = _split_utf8(table, lines_done, bad)
            lines_done += table.num_rows + len(bad)
            handle_bad_rows(policy, path, sorted(bad + utf8_bad, key=lambda b: b.line or 0))
            bad.clear()
            yielded = True
            yield conform(good, policy.schema, policy, path)
        handle_bad_rows(policy, path, bad)
        if not yielded:  # a header and no rows: still a dataset with columns
            empty = reader.schema.empty_table()
            yield conform(empty, policy.schema or _strings(empty.schema), policy, path)
    except NodeError:
        raise
    except (pa.ArrowInvalid, OSError, EOFError) as exc:
        err = _csv_failure(policy, path, exc, lines_done, reopen)
        if policy.on_error == "fail" or not _file_level(exc):
            raise err from None
        # Under drop/quarantine a file that is empty or cut short is skipped from the
        # point of failure on, and said so.
        policy.warn(f"{str(err).split(': ', 1)[-1]}; rows after line {lines_done} were skipped")
        policy.count({"skippedFiles": 1})


_UNBALANCED = "unbalanced quote (a quoted value is not closed before the end of the file)"
_TAIL = 256  # bytes of a file's end compared with a multi-line value that may run to it


def _runs_to_end(table: pa.Table, file_tail: Callable[[], bytes | None]) -> bool:
    """Whether the block's last value is a quoted value never closed (it runs to the end
    of the file).

    A quote that is never closed takes the rest of the file into one value. When it opens
    in the last column the row still has the right number of fields, so Arrow accepts it;
    in any other column the row comes out short and is reported as a bad row. So only the
    last row's last value is looked at: it is unclosed when it holds a line break, ends
    with the file's own last bytes, and the file does not end with a closing quote.
    """
    if table.num_rows == 0 or table.num_columns == 0:
        return False
    col = table.column(table.num_columns - 1)
    if not pa.types.is_string(col.type):
        return False
    value = col[table.num_rows - 1].as_py()
    if not value or "\n" not in value:
        return False
    tail = file_tail()
    if tail is None:
        return False
    end = tail.rstrip(b"\r\n")
    if end.endswith(b'"'):
        return False
    mine = value.encode().rstrip(b"\r\n")
    piece = end[-min(64, len(mine)) :]
    return bool(piece) and mine.endswith(piece)


def _file_tail(path: str, reopen: Callable[[str], Any] | None) -> bytes | None:
    if reopen is None:
        return None
    try:
        with reopen(path) as f:
            if getattr(f, "seekable", lambda: False)():
                size = f.seek(0, io.SEEK_END)
                f.seek(max(0, size - _TAIL))
                return bytes(f.read())
            last = b""
            while chunk := f.read(1 << 16):
                last = (last + chunk)[-_TAIL:]
            return last
    except OSError:
        return None


def _file_level(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "empty csv file" in text or isinstance(exc, OSError | EOFError)


def _strings(schema: pa.Schema) -> pa.Schema:
    return pa.schema(
        [(f.name, pa.string() if pa.types.is_null(f.type) else f.type) for f in schema]
    )


def _split_utf8(
    table: pa.Table, lines_done: int, bad_rows: list[BadRow]
) -> tuple[pa.Table, list[BadRow]]:
    invalid = invalid_utf8_rows(table)
    if not invalid:
        return table, []
    skipped = sorted(b.line for b in bad_rows if b.line is not None)
    out = []
    for i, col in sorted(invalid.items()):
        line = lines_done + i + 1 + sum(1 for s in skipped if s <= lines_done + i + 1)
        out.append(BadRow(line, _row_text(table, i), f"column '{col}' is not valid UTF-8"))
    keep = pa.array([i not in invalid for i in range(table.num_rows)])
    return table.filter(keep), out


def _row_text(table: pa.Table, i: int) -> str:
    vals = []
    for name in table.column_names:
        v = table.column(name)[i]
        if pa.types.is_string(v.type):
            b = v.cast(pa.binary()).as_py()
            vals.append("" if b is None else _raw(b))
        else:
            py = v.as_py()
            vals.append("" if py is None else str(py))
    return ",".join(vals)


def _csv_failure(
    policy: ReadPolicy,
    path: str,
    exc: BaseException,
    lines_done: int,
    reopen: Callable[[str], Any] | None,
) -> NodeError:
    text = str(exc)
    if "Empty CSV file" in text:
        return policy.error(path, "is empty: expected a header row")
    if "out of sync with chunker" in text or "unbalanced" in text.lower():
        return policy.error(
            path,
            f"{_quote_line(path, lines_done, reopen, policy.delimiter)}: {_UNBALANCED}",
        )
    if isinstance(exc, OSError | EOFError) and (
        "truncated" in text.lower() or "compressed" in text.lower() or isinstance(exc, EOFError)
    ):
        return policy.error(
            path,
            f"is cut short: the compressed stream ends in the block after line {lines_done} "
            f"({text})",
        )
    import re

    m = re.search(r"In CSV column #(\d+): Row #(\d+): CSV conversion error to (\w+): (.+)", text)
    if m:
        col = int(m.group(1))
        names = policy.schema.names if policy.schema is not None else []
        cname = names[col] if col < len(names) else f"#{col}"
        return policy.error(
            path,
            f"line {m.group(2)}: column '{cname}': {m.group(4)} is not a {m.group(3)} "
            f"(the type was inferred from the first rows; set columnTypes to read it otherwise)",
        )
    return policy.error(path, f"after line {lines_done}: {text.splitlines()[0] if text else exc}")


def _quote_line(
    path: str, lines_done: int, reopen: Callable[[str], Any] | None, delimiter: str | None
) -> str:
    if reopen is None:
        return f"after line {lines_done}"
    try:
        with reopen(path) as f:
            line = first_unbalanced_quote(f, (delimiter or ",").encode())
    except OSError:
        line = None
    return f"line {line}" if line else f"after line {lines_done}"


def first_unbalanced_quote(f: Any, delimiter: bytes = b",") -> int | None:
    """The line that opens a quoted value never closed before the end of the file.

    A streaming scan that follows quoting as a CSV reader does: a quote opens a value only
    at the start of a field, ``""`` inside a quoted value is a quote, and a quoted value
    may go on over line breaks.
    """
    opened: int | None = None  # the line where the value still open began
    for number, line in enumerate(_lines(f), start=1):
        i, n = 0, len(line)
        while i <= n:
            if opened is None:
                j = line.find(b'"', i)
                if j < 0:
                    break
                i = j + 1
                if j == 0 or line[j - 1 : j] == delimiter:
                    opened = number
                continue
            j = line.find(b'"', i)
            if j < 0:
                break  # the quoted value goes on on the next line
            if line[j + 1 : j + 2] == b'"':
                i = j + 2
                continue
            opened, i = None, j + 1
    return opened


def _lines(f: Any) -> Iterator[bytes]:
    rest = b""
    while True:
        chunk = f.read(1 << 16)
        if not chunk:
            break
        data = rest + chunk
        parts = data.split(b"\n")
        rest = parts.pop()
        yield from parts
    if rest:
        yield rest


# -- JSON Lines ------------------------------------------------------------------------


def probe_jsonl(f: Any, policy: ReadPolicy) -> pa.Schema | None:
    import pyarrow.json as pajson

    chunk = next(_chunks(f, PROBE_BLOCK), b"")
    good = [ln for ln in chunk.split(b"\n") if ln.strip() and _json_ok(ln)]
    if not good:
        return None
    try:
        return pajson.read_json(io.BytesIO(b"\n".join(good))).schema
    except pa.ArrowInvalid:
        return None


def _json_ok(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except (ValueError, UnicodeDecodeError):
        return False


def _chunks(f: Any, size: int) -> Iterator[bytes]:
    """The stream in pieces of about ``size`` bytes, each ending at a line end."""
    rest = b""
    while True:
        buf = f.read(size)
        if not buf:
            if rest:
                yield rest
            return
        data = rest + buf
        cut = data.rfind(b"\n")
        if cut < 0:
            rest = data
            continue
        yield data[: cut + 1]
        rest = data[cut + 1 :]


def read_jsonl(f: Any, path: str, policy: ReadPolicy) -> Iterator[pa.Table]:
    """Stream one JSON Lines file as conformed Arrow tables, lines numbered from 1."""
    import pyarrow.json as pajson

    first_line = 1
    try:
        for data in _chunks(f, READ_BLOCK):
            table, bad = _parse_jsonl_chunk(data, first_line, policy, path, pajson)
            handle_bad_rows(policy, path, bad)
            first_line += data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
            if table is not None and table.num_rows:
                yield conform(table, policy.schema, policy, path)
    except NodeError:
        raise
    except (OSError, EOFError) as exc:
        raise policy.error(
            path, f"is cut short: the stream ends in the block after line {first_line - 1} ({exc})"
        ) from None


def _parse_jsonl_chunk(
    data: bytes, first_line: int, policy: ReadPolicy, path: str, pajson: Any
) -> tuple[pa.Table | None, list[BadRow]]:
    opts = (
        pajson.ParseOptions(explicit_schema=policy.schema, unexpected_field_behavior="infer")
        if policy.schema is not None
        else pajson.ParseOptions()
    )
    read_opts = pajson.ReadOptions(use_threads=False, block_size=max(len(data) + 1, 1 << 16))
    try:
        table = pajson.read_json(io.BytesIO(data), read_options=read_opts, parse_options=opts)
        if not invalid_utf8_rows(table):
            return table, []
    except pa.ArrowInvalid:
        pass
    # Something in the chunk does not parse: find the lines, one by one.
    bad: list[BadRow] = []
    good: list[bytes] = []
    for i, line in enumerate(data.split(b"\n")):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except UnicodeDecodeError:
            bad.append(BadRow(first_line + i, _raw(line), "not valid UTF-8"))
            continue
        except ValueError as exc:
            bad.append(BadRow(first_line + i, _raw(line), f"invalid JSON ({exc})"))
            continue
        if not isinstance(obj, dict):
            bad.append(BadRow(first_line + i, _raw(line), "expected a JSON object"))
            continue
        good.append(line)
    if not bad:  # every line parses alone: values of one field disagree in type
        last = first_line + data.count(b"\n") - 1
        try:
            pajson.read_json(io.BytesIO(data), read_options=read_opts, parse_options=opts)
        except pa.ArrowInvalid as exc:
            raise policy.error(path, f"lines {first_line}-{last}: {exc}") from None
    if policy.on_error == "fail" or not good:
        return None, bad
    table = pajson.read_json(
        io.BytesIO(b"\n".join(good)), read_options=read_opts, parse_options=opts
    )
    return table, bad
