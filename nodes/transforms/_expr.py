"""A small, safe expression language for derived columns.

Expressions are parsed once (at config validation) into a tiny syntax tree and
evaluated on an Arrow table with ``pyarrow.compute``; nothing is ever passed to
``eval``. Grammar::

    expr    := term (('+' | '-') term)*
    term    := unary (('*' | '/' | '%') unary)*
    unary   := '-' unary | primary
    primary := NUMBER | STRING | column | call | '(' expr ')'
    column  := NAME | `any column name`
    call    := FUNC '(' [expr (',' expr)*] ')'

Strings are single- or double-quoted. ``true``, ``false`` and ``null`` are literals.
Functions: ``concat(a, b, ...)`` (nulls count as empty strings, as in SQL ``concat``),
``upper(s)``, ``lower(s)``, ``trim(s)``, ``length(s)``, ``coalesce(a, b, ...)``,
``abs(x)``, ``round(x[, digits])``, ``col('name')``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc


class ExpressionError(ValueError):
    """An expression cannot be parsed or evaluated; the message says where and why."""


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Column:
    name: str


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class BinOp:
    op: str
    left: Node
    right: Node


Node = Literal | Column | Call | BinOp

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+(?:[eE][+-]?\d+)?)
    | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<quoted>`[^`]+`)
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op>[-+*/%(),])
    )""",
    re.VERBOSE,
)

# name -> (min args, max args or None)
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "concat": (1, None),
    "upper": (1, 1),
    "lower": (1, 1),
    "trim": (1, 1),
    "length": (1, 1),
    "coalesce": (1, None),
    "abs": (1, 1),
    "round": (1, 2),
    "col": (1, 1),
}

_KEYWORDS = {"true": True, "false": False, "null": None}


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    tokens: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExpressionError(
                f"unexpected character {text[pos:].lstrip()[:1]!r} at position {pos} in {text!r}"
            )
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind), m.start(kind)))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str, int]:
        tok = self.peek()
        if tok is None:
            want = f"{value!r}" if value else "a value"
            raise ExpressionError(f"expression {self.text!r} ends early; expected {want}")
        if value is not None and tok[1] != value:
            raise ExpressionError(
                f"expected {value!r} at position {tok[2]} in {self.text!r}, got {tok[1]!r}"
            )
        self.i += 1
        return tok

    def parse(self) -> Node:
        if not self.tokens:
            raise ExpressionError("expression is empty")
        node = self.expr()
        tok = self.peek()
        if tok is not None:
            raise ExpressionError(f"unexpected {tok[1]!r} at position {tok[2]} in {self.text!r}")
        return node

    def expr(self) -> Node:
        node = self.term()
        while (tok := self.peek()) is not None and tok[1] in "+-" and tok[0] == "op":
            self.take()
            node = BinOp(tok[1], node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while (tok := self.peek()) is not None and tok[1] in "*/%" and tok[0] == "op":
            self.take()
            node = BinOp(tok[1], node, self.unary())
        return node

    def unary(self) -> Node:
        tok = self.peek()
        if tok is not None and tok == ("op", "-", tok[2]):
            self.take()
            return BinOp("-", Literal(0), self.unary())
        return self.primary()

    def primary(self) -> Node:
        kind, value, pos = self.take()
        if kind == "num":
            return Literal(float(value) if any(c in value for c in ".eE") else int(value))
        if kind == "str":
            body = value[1:-1]
            return Literal(re.sub(r"\\(.)", r"\1", body))
        if kind == "quoted":
            return Column(value[1:-1])
        if kind == "name":
            nxt = self.peek()
            if nxt is not None and nxt[1] == "(":
                return self.call(value, pos)
            if value.lower() in _KEYWORDS:
                return Literal(_KEYWORDS[value.lower()])
            return Column(value)
        if value == "(":
            node = self.expr()
            self.take(")")
            return node
        raise ExpressionError(f"unexpected {value!r} at position {pos} in {self.text!r}")

    def call(self, name: str, pos: int) -> Node:
        func = name.lower()
        if func not in FUNCTIONS:
            raise ExpressionError(
                f"unknown function {name!r} at position {pos} in {self.text!r}; "
                f"expected one of {', '.join(sorted(FUNCTIONS))}"
            )
        self.take("(")
        args: list[Node] = []
        if (tok := self.peek()) is not None and tok[1] == ")":
            self.take()
        else:
            args.append(self.expr())
            while (tok := self.peek()) is not None and tok[1] == ",":
                self.take()
                args.append(self.expr())
            self.take(")")
        lo, hi = FUNCTIONS[func]
        if len(args) < lo or (hi is not None and len(args) > hi):
            want = f"{lo}" if lo == hi else f"{lo} or more" if hi is None else f"{lo} to {hi}"
            raise ExpressionError(f"{func}() takes {want} argument(s), got {len(args)}")
        if func == "col":
            if not isinstance(args[0], Literal) or not isinstance(args[0].value, str):
                raise ExpressionError("col() takes a quoted column name, e.g. col('first name')")
            return Column(args[0].value)
        return Call(func, tuple(args))


@functools.lru_cache(maxsize=512)
def parse(text: str) -> Node:
    """Parse an expression; raise :class:`ExpressionError` explaining a syntax error.

    Results are cached: the tree is immutable and the same text is parsed per batch.
    """
    return _Parser(text).parse()


def columns(node: Node) -> set[str]:
    """Names of the columns an expression reads."""
    if isinstance(node, Column):
        return {node.name}
    if isinstance(node, Call):
        return set().union(*(columns(a) for a in node.args)) if node.args else set()
    if isinstance(node, BinOp):
        return columns(node.left) | columns(node.right)
    return set()


def evaluate(node: Node, table: pa.Table) -> pa.Array | pa.ChunkedArray | pa.Scalar:
    """Evaluate an expression over ``table``; the result is an array or a scalar."""
    if isinstance(node, Literal):
        return pa.scalar(node.value)
    if isinstance(node, Column):
        if node.name not in table.column_names:
            raise ExpressionError(
                f"unknown column {node.name!r}; available: {', '.join(table.column_names)}"
            )
        return table.column(node.name)
    if isinstance(node, BinOp):
        left, right = evaluate(node.left, table), evaluate(node.right, table)
        return _binop(node.op, left, right)
    args = [evaluate(a, table) for a in node.args]
    return _call(node.func, args)


_ARITH = {"+": "add_checked", "-": "subtract_checked", "*": "multiply_checked", "/": "divide"}


def _binop(op: str, left: Any, right: Any) -> Any:
    try:
        if op == "+" and (_is_string(left) or _is_string(right)):
            return _concat([left, right])
        if op == "/":
            # True division, as users expect 7 / 2 == 3.5 rather than integer division.
            left, right = _to_float(left), _to_float(right)
        if op == "%":
            left, right = _to_float(left), _to_float(right)
            quotient = pc.floor(pc.divide(left, right))
            return pc.subtract(left, pc.multiply(quotient, right))
        return pc.call_function(_ARITH[op], [left, right])
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise ExpressionError(
            f"cannot apply {op!r} to {_type_of(left)} and {_type_of(right)}: {exc}"
        ) from None


def _call(func: str, args: list[Any]) -> Any:
    try:
        if func == "concat":
            return _concat(args)
        if func == "upper":
            return pc.utf8_upper(_to_string(args[0]))
        if func == "lower":
            return pc.utf8_lower(_to_string(args[0]))
        if func == "trim":
            return pc.utf8_trim_whitespace(_to_string(args[0]))
        if func == "length":
            return pc.utf8_length(_to_string(args[0]))
        if func == "coalesce":
            return pc.coalesce(*_common_type(args))
        if func == "abs":
            return pc.abs_checked(args[0])
        if func == "round":
            digits = int(args[1].as_py()) if len(args) > 1 else 0
            return pc.round(args[0], ndigits=digits)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        types = ", ".join(_type_of(a) for a in args)
        raise ExpressionError(f"{func}() cannot take ({types}): {exc}") from None
    raise ExpressionError(f"unknown function {func!r}")  # parse() prevents this


def _concat(args: list[Any]) -> Any:
    parts = [pc.fill_null(_to_string(a), "") if not _is_null(a) else pa.scalar("") for a in args]
    return pc.binary_join_element_wise(*parts, "")


def _common_type(args: list[Any]) -> list[Any]:
    typed = [a for a in args if not _is_null(a)]
    if not typed:
        return args
    target = typed[0].type
    return [a if _is_null(a) or a.type == target else pc.cast(a, target) for a in args]


def _is_null(x: Any) -> bool:
    return isinstance(x, pa.Scalar) and pa.types.is_null(x.type)


def _is_string(x: Any) -> bool:
    return pa.types.is_string(x.type) or pa.types.is_large_string(x.type)


def _to_string(x: Any) -> Any:
    return x if _is_string(x) or _is_null(x) else pc.cast(x, pa.string())


def _to_float(x: Any) -> Any:
    if pa.types.is_integer(x.type) or pa.types.is_null(x.type):
        return pc.cast(x, pa.float64())
    return x


def _type_of(x: Any) -> str:
    return str(getattr(x, "type", type(x).__name__))
