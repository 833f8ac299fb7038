"""``pipeline-builder decrypt``: reverse the redaction node's ``encrypt`` operator.

Tokens look like ``enc:<base64url>`` (deterministic AES-SIV, key derived from the
same secret reference the redaction node used as ``keyRef``). The command decrypts
one token (``--value``) or every token in the string columns of a Parquet/CSV/JSONL
file (``--input``/``--output``), batch by batch. Tokens inside free text are found
and replaced in place.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from engine.errors import PipelineBuilderError
from engine.secrets import resolve_secret

_TOKEN = re.compile(r"enc:[A-Za-z0-9_\-]{16,}")


class DecryptError(PipelineBuilderError):
    """A token or file cannot be decrypted with the given key."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "decrypt",
        help="decrypt values the privacy/redaction node encrypted (operator: encrypt)",
    )
    p.add_argument(
        "--key", required=True, help="secret reference of the key: env:NAME or file:PATH"
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--value", help="one token (enc:...) to decrypt")
    src.add_argument("--input", help="a .parquet, .csv or .jsonl file")
    p.add_argument("--output", help="where to write the decrypted file (same format)")
    p.add_argument("--columns", help="comma-separated columns (default: every string column)")
    p.set_defaults(handler=decrypt_command)


def decrypt_command(args: argparse.Namespace) -> int:
    from nodes.privacy.operators import Keys

    keys = Keys.from_secret(resolve_secret(args.key, what="--key"))
    assert keys.enc_key is not None
    if args.value is not None:
        print(_decrypt_text(args.value, keys.enc_key))
        return 0
    if not args.output:
        raise DecryptError("--output is required with --input")
    columns = [c.strip() for c in args.columns.split(",")] if args.columns else None
    rows = decrypt_file(Path(args.input), Path(args.output), keys.enc_key, columns)
    print(f"decrypted {rows} rows into {args.output}", file=sys.stderr)
    return 0


def _decrypt_text(text: str, key: bytes) -> str:
    from nodes.privacy.operators import decrypt_value

    def one(m: re.Match[str]) -> str:
        try:
            return decrypt_value(m.group(0), key)
        except ValueError as exc:
            raise DecryptError(f"a token does not decrypt: {exc}") from None

    return _TOKEN.sub(one, text)


def decrypt_file(src: Path, dst: Path, key: bytes, columns: list[str] | None) -> int:
    """Decrypt the tokens of ``src`` into ``dst`` (written to a temp name, then renamed)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    fmt = src.suffix.lower().lstrip(".")
    if fmt not in ("parquet", "csv", "jsonl", "json"):
        raise DecryptError(f"{src}: expected a .parquet, .csv or .jsonl file")
    batches = _read_batches(src, fmt)
    tmp = dst.with_name(dst.name + ".partial")
    writer = None
    rows = 0
    try:
        for batch in batches:
            table = pa.Table.from_batches([batch])
            names = columns or [
                f.name
                for f in table.schema
                if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
            ]
            missing = [c for c in names if c not in table.column_names]
            if missing:
                raise DecryptError(
                    f"columns {missing} not in {src}; available: {table.column_names}"
                )
            for name in names:
                col = table.column(name).cast(pa.string())
                enc = pc.dictionary_encode(col.combine_chunks())
                values = [
                    None if v is None else _decrypt_text(v, key) for v in enc.dictionary.to_pylist()
                ]
                new = pc.take(pa.array(values, pa.string()), enc.indices)
                table = table.set_column(table.schema.get_field_index(name), name, new)
            writer = writer or _writer(tmp, fmt, table.schema)
            writer.write_table(table) if hasattr(writer, "write_table") else writer.write(table)
            rows += table.num_rows
        if writer is not None:
            writer.close()
        tmp.replace(dst)
    finally:
        if tmp.exists():
            tmp.unlink()
    return rows


def _read_batches(src: Path, fmt: str):
    import pyarrow.csv as pcsv
    import pyarrow.json as pjson
    import pyarrow.parquet as pq

    if fmt == "parquet":
        yield from pq.ParquetFile(src).iter_batches(batch_size=65536)
    elif fmt == "csv":
        yield from pcsv.open_csv(src)
    else:
        yield from pjson.read_json(src).to_batches(max_chunksize=65536)


class _JsonlWriter:
    def __init__(self, path: Path) -> None:
        self._f = path.open("w", encoding="utf-8")

    def write_table(self, table) -> None:
        import json

        for row in table.to_pylist():
            self._f.write(json.dumps(row, default=str) + "\n")

    def close(self) -> None:
        self._f.close()


def _writer(path: Path, fmt: str, schema):
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    if fmt == "parquet":
        return pq.ParquetWriter(path, schema)
    if fmt == "csv":
        return pcsv.CSVWriter(path, schema)
    return _JsonlWriter(path)
