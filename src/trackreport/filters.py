"""The runs filter: MLflow's search-runs syntax plus OR, NOT and parentheses.

``parse_filter`` turns a filter into an AST of frozen dataclasses with the lark LALR
grammar in ``filter_grammar.lark`` (never ``eval``); ``filter_mask`` evaluates it on a
``load_runs`` DataFrame. Comparison rules:

- A comparison with a missing column or a missing (None/NaN/NaT) cell is False,
  ``!=``, ``NOT LIKE`` and ``NOT IN`` included; ``IS NULL`` is True for those.
- ``metrics.*`` and ``duration`` (seconds) compare as numbers; ``start_time`` and
  ``end_time`` take milliseconds since the Unix epoch or an ISO 8601 string (naive
  means UTC). These literals are checked when the filter is parsed.
- ``params.*`` and ``tags.*`` compare as numbers when both sides are numeric (an int
  or float, or a string such as ``"5"`` or ``'1e-3'``), else as text: strings as they
  are, bools as ``True``/``False``, lists/dicts as compact JSON (``[1,"a"]``), other
  numbers as ``str()``. The other attributes always compare as text.
- LIKE/ILIKE: ``%`` any run, ``_`` one character, a backslash makes the next
  character literal; the whole value must match; LIKE is case-sensitive, ILIKE not.
- String literals: ``\\\\``, ``\\'``, ``\\"`` and a doubled quote are escapes; any
  other backslash is kept (so ``'50\\%'`` reaches LIKE as ``50\\%``).
"""

from __future__ import annotations

import contextvars
import datetime as _dt
import difflib
import functools
import json
import numbers
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedToken

from trackreport.errors import FilterSyntaxError

if TYPE_CHECKING:
    import pandas as pd

ATTRIBUTES = (
    "run_id", "run_name", "experiment", "status", "start_time", "end_time", "duration",
    "user", "host", "git_commit", "git_branch", "parent_run_id",
)  # fmt: skip
_PREFIXES = {"metrics": "metrics", "metric": "metrics", "params": "params", "param": "params",
             "tags": "tags", "tag": "tags", "attributes": "attribute", "attribute": "attribute"}  # fmt: skip
_attributes: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "filter_attributes", default=ATTRIBUTES)
_NOT_TEXT = ("start_time", "end_time", "duration")  # attributes with a typed comparison
_MAX_DEPTH = 100
# How expected terminals are named in errors, in the order they are listed.
_SHOWN = {"IDENT": "a column name", "COMP": "a comparison operator", "NOT": "NOT",
          "LIKE": "LIKE", "ILIKE": "ILIKE", "IN": "IN", "IS": "IS", "NULL": "NULL",
          "STRING": "a quoted string", "NUMBER": "a number", "LPAR": "'('", "COMMA": "','",
          "RPAR": "')'", "AND": "AND", "OR": "OR", "$END": "end of filter"}  # fmt: skip
_NUMERIC = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt,
    "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}  # fmt: skip

Value = str | int | float | _dt.datetime


@dataclass(frozen=True)
class Column:
    """A column reference: ``kind`` is "attribute", "metrics", "params" or "tags"."""

    kind: str
    key: str

    @property
    def name(self) -> str:
        """The DataFrame column name, e.g. ``metrics.acc`` or ``status``."""
        return self.key if self.kind == "attribute" else f"{self.kind}.{self.key}"

    @property
    def typed(self) -> bool:
        """True for metrics, times and duration, which never compare as text."""
        return self.kind == "metrics" or (self.kind == "attribute" and self.key in _NOT_TEXT)


@dataclass(frozen=True)
class Compare:
    """``column op value``: op is = != < <= > >=, [NOT] LIKE/ILIKE/IN or IS [NOT] NULL."""

    column: Column
    op: str
    value: Value | tuple[Value, ...] | None = None


@dataclass(frozen=True)
class And:
    """True where every item is."""

    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    """True where any item is."""

    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    """True where ``operand`` is not."""

    operand: Expr


@dataclass(frozen=True)
class MatchAll:
    """The empty filter: every row matches."""


Expr = Compare | And | Or | Not | MatchAll


class _At(Exception):
    """A semantic error found while parsing; ``args`` are (0-based offset, message)."""


def _show(s: str) -> str:
    return repr(s if len(s) <= 40 else s[:37] + "...")


class _ToAst(Transformer):
    """Builds the AST as lark reduces (LALR callbacks: no recursion, no VisitError)."""

    def or_(self, c: list[Any]) -> Or:
        return Or(tuple(x for e in c[::2] for x in (e.items if isinstance(e, Or) else (e,))))

    def and_(self, c: list[Any]) -> And:
        return And(tuple(x for e in c[::2] for x in (e.items if isinstance(e, And) else (e,))))

    def not_(self, c: list[Any]) -> Not:
        return Not(c[1])

    def compare(self, c: list[Token]) -> Compare:
        col = _column(c[0])
        return Compare(col, c[1].value, _literal(col, c[2]))

    def like(self, c: list[Token]) -> Compare:
        col, op, pat = _column(c[0]), " ".join(t.upper() for t in c[1:-1]), c[-1]
        if pat.type != "STRING":
            raise _At(pat.start_pos, f"{op} needs a quoted string pattern, got number {pat}")
        if col.typed:
            raise _At(c[0].start_pos, f"{op} does not apply to {col.name}, which is not text")
        return Compare(col, op, _unquote(pat))

    def in_(self, c: list[Token]) -> Compare:
        col, op = _column(c[0]), "NOT IN" if c[1].type == "NOT" else "IN"
        return Compare(
            col, op, tuple(_literal(col, t) for t in c if t.type in ("STRING", "NUMBER"))
        )

    def is_null(self, c: list[Token]) -> Compare:
        return Compare(_column(c[0]), "IS NOT NULL" if len(c) == 4 else "IS NULL")


def _column(tok: Token) -> Column:
    head, dot, rest = tok.value.partition(".")
    key = rest[1:-1] if rest[:1] in ("`", '"') else rest
    head, key = (head, key) if dot else ("attributes", head)
    kind = _PREFIXES.get(head.lower())
    if kind is None:
        raise _At(tok.start_pos, f"unknown prefix {head!r} in {_show(tok.value)} "
                  "(use metrics., params., tags. or attributes.)")  # fmt: skip
    if not key:
        raise _At(tok.start_pos, f"missing key after {head + '.'!r}")
    attributes = _attributes.get()
    if kind == "attribute" and key.lower() not in attributes:
        near = difflib.get_close_matches(key.lower(), attributes, n=1)
        hint = f"did you mean {near[0]!r}? " if near else ""
        raise _At(tok.start_pos, f"unknown attribute {_show(key)} "
                  f"({hint}attributes are {', '.join(attributes)})")  # fmt: skip
    return Column(kind, key.lower() if kind == "attribute" else key)


def _literal(col: Column, tok: Token) -> Value:
    """The literal's value, checked and converted for typed columns (so errors point at it)."""
    value: Value = _unquote(tok) if tok.type == "STRING" else _number(tok.value)
    if not col.typed:
        return value
    if col.key in ("start_time", "end_time"):
        epoch = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
        try:
            if isinstance(value, (int, float)):  # milliseconds since the epoch, as in MLflow
                return epoch + _dt.timedelta(milliseconds=value)
            when = _dt.datetime.fromisoformat(re.sub(r"[zZ]$", "+00:00", value))  # 3.10: no "Z"
        except (ValueError, OverflowError):
            raise _At(tok.start_pos, f"{col.name} needs milliseconds since the epoch or an "
                      f"ISO 8601 date, got {_show(str(value))}") from None  # fmt: skip
        return when.replace(tzinfo=_dt.timezone.utc) if when.tzinfo is None else when
    num = _as_number(value)
    if num is None:
        unit = "a number of seconds" if col.key == "duration" else "a number"
        raise _At(tok.start_pos, f"{col.name} compares with {unit}, got {_show(str(value))}")
    return num


def _number(s: str) -> int | float:
    try:
        return int(s) if re.fullmatch(r"[+-]?[0-9]+", s) else float(s)
    except ValueError:  # an int too long for int(); float() makes it inf
        return float(s)


def _unquote(tok: Token) -> str:
    q = tok.value[0]
    return re.sub(rf"\\([\\'\"])|{q}{q}", lambda m: m.group(1) or q, tok.value[1:-1])


@functools.lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = resources.files("trackreport").joinpath("filter_grammar.lark").read_text("utf-8")
    return Lark(grammar, parser="lalr", lexer="basic", transformer=_ToAst())


def parse_filter(text: str, attributes: tuple[str, ...] = ATTRIBUTES) -> Expr:
    """Parse a runs filter into an AST; an empty or blank filter gives ``MatchAll()``.

    ``attributes`` are the names allowed without a prefix (other tables than
    runs, e.g. experiments, have their own).

    Raises:
        FilterSyntaxError: one line naming the bad token and its column.
    """
    if not text.strip():
        return MatchAll()
    token = _attributes.set(attributes)
    try:
        expr: Expr = _parser().parse(text)
    except _At as e:
        raise _fail(text, *e.args) from None
    except UnexpectedToken as e:
        if e.token.type == "$END":
            pos, what = len(text.rstrip()), "unexpected end of filter"
        else:
            pos, what = e.token.start_pos or 0, f"unexpected {_show(str(e.token))}"
        ok = _accepts(text[:pos], e.expected)
        shown = [v for k, v in _SHOWN.items() if k in ok]
        if shown:
            what += f" (expected {', '.join(shown[:-1])}{' or ' if shown[1:] else ''}{shown[-1]})"
        raise _fail(text, pos, what) from None
    except UnexpectedCharacters as e:
        ch = text[e.pos_in_stream]
        what = "unterminated string" if ch in "'\"" else f"unexpected character {ch!r}"
        raise _fail(text, e.pos_in_stream, what) from None
    except LarkError as e:  # not expected from LALR; still, never let one escape
        raise FilterSyntaxError(f"invalid filter: {str(e).splitlines()[0]}") from None
    finally:
        _attributes.reset(token)
    if max(depth for _, depth in _walk(expr)) > _MAX_DEPTH:
        raise FilterSyntaxError(f"invalid filter: nested more than {_MAX_DEPTH} levels deep")
    return expr


def _fail(text: str, pos: int, what: str) -> FilterSyntaxError:
    """A one-line FilterSyntaxError pointing at 0-based offset ``pos`` of ``text``."""
    line, col = text.count("\n", 0, pos) + 1, pos - text.rfind("\n", 0, pos)
    where = f"line {line}, column {col}" if "\n" in text else f"column {col}"
    return FilterSyntaxError(f"invalid filter at {where}: {what}")


def _accepts(prefix: str, fallback: set[str]) -> set[str]:
    """The terminals that may follow ``prefix``: exact, unlike LALR's merged ``expected``."""
    try:
        ip = _parser().parse_interactive(prefix)
        ip.exhaust_lexer()
        return ip.accepts() or fallback
    except (LarkError, _At):
        return fallback


def _children(e: Expr) -> tuple[Expr, ...]:
    if isinstance(e, (And, Or)):
        return e.items
    return (e.operand,) if isinstance(e, Not) else ()


def _walk(expr: Expr) -> Iterator[tuple[Expr, int]]:
    """Every node with its depth (1 for the root), without recursion."""
    stack = [(expr, 1)]
    while stack:
        e, depth = stack.pop()
        yield e, depth
        stack.extend((c, depth + 1) for c in _children(e))


def referenced_columns(expr: Expr | str) -> set[str]:
    """The DataFrame column names the filter mentions, e.g. ``{"metrics.acc", "status"}``."""
    e = parse_filter(expr) if isinstance(expr, str) else expr
    return {n.column.name for n, _ in _walk(e) if isinstance(n, Compare)}


def filter_mask(expr: Expr | str, df: pd.DataFrame) -> pd.Series:
    """A boolean Series aligned to ``df.index``: True for the rows the filter keeps.

    Raises:
        FilterSyntaxError: when ``expr`` is a string that does not parse.
    """
    import pandas as pd

    e = parse_filter(expr) if isinstance(expr, str) else expr
    if isinstance(e, Compare):
        return _predicate(e, df)
    if isinstance(e, Not):
        return ~filter_mask(e.operand, df)
    masks = [filter_mask(item, df) for item in _children(e)]
    start = pd.Series(not isinstance(e, Or), index=df.index, dtype=bool)
    return functools.reduce(operator.or_ if isinstance(e, Or) else operator.and_, masks, start)


def apply_filter(df: pd.DataFrame, text: str | None,
                 attributes: tuple[str, ...] = ATTRIBUTES) -> pd.DataFrame:
    """The rows of ``df`` matching ``text``; ``None`` or a blank filter returns ``df`` itself.

    Raises:
        FilterSyntaxError: when ``text`` does not parse.
    """
    if text is None or not text.strip():
        return df
    return df.loc[filter_mask(parse_filter(text, attributes), df)]


def _predicate(e: Compare, df: pd.DataFrame) -> pd.Series:
    import pandas as pd

    col, op = e.column, e.op
    if col.name not in df.columns:
        return pd.Series(op == "IS NULL", index=df.index, dtype=bool)
    s = df[col.name]
    if op.startswith("IS"):
        return pd.Series(s.isna().to_numpy() == (op == "IS NULL"), index=df.index, dtype=bool)
    values = e.value if isinstance(e.value, tuple) else (e.value,)
    if col.typed:
        if col.kind == "metrics":
            s, conv = pd.to_numeric(s, errors="coerce").astype(float), float
        elif col.key == "duration":
            s, conv = pd.to_timedelta(s, errors="coerce").dt.total_seconds(), float
        else:
            s, conv = pd.to_datetime(s, utc=True, errors="coerce", format="ISO8601"), pd.Timestamp
        if op in ("IN", "NOT IN"):
            hit = functools.reduce(operator.or_, [s == conv(v) for v in values])
            hit = hit if op == "IN" else ~hit
        else:
            hit = _OPS[op](s, conv(values[0]))
        return (s.notna() & hit).astype(bool)
    test = _cell_test(op, values, mixed=col.kind != "attribute")
    return pd.Series([not _is_missing(v) and test(v) for v in s], index=df.index, dtype=bool)


def _cell_test(op: str, values: tuple[Any, ...], *, mixed: bool) -> Callable[[Any], bool]:
    """A test for one present cell of a params/tags (``mixed``) or text attribute column."""
    if "LIKE" in op:
        parts = re.findall(r"\\.|%+|_|[^\\%_]+|\\", str(values[0]), flags=re.DOTALL)
        rx = "".join(
            {"%": ".*", "_": "."}.get(p[0]) or re.escape(p[-1] if p[0] == "\\" else p)
            for p in parts
        )
        match = re.compile(rx, re.DOTALL | (re.IGNORECASE if "ILIKE" in op else 0)).fullmatch
        return lambda v: (match(_as_text(v)) is None) == op.startswith("NOT")

    def cmp(cell: Any, fn: Callable[[Any, Any], Any], lit: Any) -> bool:
        a, b = (_as_number(cell), _as_number(lit)) if mixed else (None, None)
        return bool(
            fn(a, b) if a is not None and b is not None else fn(_as_text(cell), _as_text(lit))
        )

    if op in ("IN", "NOT IN"):
        return lambda v: any(cmp(v, operator.eq, x) for x in values) == (op == "IN")
    return lambda v: cmp(v, _OPS[op], values[0])


def _is_missing(v: Any) -> bool:
    if v is None or isinstance(v, (str, list, dict, tuple, bool)):
        return v is None
    import pandas as pd

    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):  # array-likes: a value, not a missing cell
        return False


def _as_number(v: Any) -> int | float | None:
    """The number a value stands for, or None when it is not numeric (bools, NaN, text)."""
    if isinstance(v, numbers.Real) and not isinstance(v, bool):
        return None if v != v else v  # NaN  # type: ignore[return-value]
    return _number(v) if isinstance(v, str) and _NUMERIC.fullmatch(v) else None


def _as_text(v: Any) -> str:
    if isinstance(v, (list, dict, tuple)):
        return json.dumps(v, separators=(",", ":"), ensure_ascii=False, default=str)
    return v if isinstance(v, str) else str(v)
