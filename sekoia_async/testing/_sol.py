"""A small real subset of SOL (Sekoia Operating Language) for the emulated notebooks: pure parser.

Supported (one table, ``events``; stages separated by ``|``)::

    events
    | where user.name == "alice" and (destination.port >= 1024 or source.ip startswith "10.")
    | where timestamp > ago(24h) and not event.outcome in ("failure", "unknown")
    | order by timestamp desc          (also ``sort by``; asc/desc, default desc)
    | limit 100                        (also ``take``)
    | select source.ip, user.name      (also ``project``)
    | aggregate count() by user.name   (rows {user.name, count}, largest first)

Operators: ``== != > >= < <= contains startswith endswith in``; literals: "strings" or
'strings', numbers, true/false, null, ``ago(<n><s|m|h|d|w>)``. Errors raise ``SolSyntaxError``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

import attrs

from .._times import parse_time

__all__ = ["SolQuery", "SolSyntaxError", "Stage", "parse_sol"]

Accessor = Callable[[str], Any]
Predicate = Callable[[Accessor], bool]


class SolSyntaxError(ValueError):
    """The SOL text is not in the emulator's subset; the message says where and why."""


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<duration>\d+[A-Za-z]+\b)
      | (?P<number>-?\d+(?:\.\d+)?(?![\w.]))
      | (?P<op>==|!=|>=|<=|>|<|\(|\)|,|\|)
      | (?P<word>[A-Za-z_@][\w.@-]*)
    )""",
    re.VERBOSE,
)


@attrs.frozen
class _Tok:
    kind: str
    text: str
    pos: int


def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            snippet = text[pos : pos + 10].strip()
            raise SolSyntaxError(f"unexpected {snippet!r} at position {pos}")
        kind = match.lastgroup or ""
        start = match.start(kind)
        toks.append(_Tok(kind, match.group(kind), start))
        pos = match.end()
    toks.append(_Tok("eof", "", len(text)))
    return toks


@attrs.frozen
class Stage:
    kind: str  # where | limit | select | order | aggregate
    predicate: Predicate | None = None
    number: int = 0
    fields: tuple[str, ...] = ()
    descending: bool = True


@attrs.frozen
class SolQuery:
    """A parsed SOL query: its stages, applied in order to the events of the time window."""

    stages: tuple[Stage, ...]

    def leading_filter(self) -> Predicate | None:
        """The ``where`` stages before any other stage, combined (to prefilter the store)."""
        preds = []
        for stage in self.stages:
            if stage.kind != "where":
                break
            assert stage.predicate is not None
            preds.append(stage.predicate)
        if not preds:
            return None
        return lambda get: all(p(get) for p in preds)

    def run(
        self, events: Iterable[dict[str, Any]], *, max_rows: int, prefiltered: bool = False
    ) -> list[dict[str, Any]]:
        """Apply the stages to ``events`` (newest first); at most ``max_rows`` rows.

        ``prefiltered``: the events already passed ``leading_filter()``, skip those stages.
        """
        rows: Iterator[dict[str, Any]] = iter(events)
        stages = list(self.stages)
        if prefiltered:
            while stages and stages[0].kind == "where":
                stages.pop(0)
        for stage in stages:
            rows = _apply(stage, rows)
        out = []
        for row in rows:
            out.append(row)
            if len(out) >= max_rows:
                break
        return out


def _apply(stage: Stage, rows: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    if stage.kind == "where":
        pred = stage.predicate
        assert pred is not None
        return (r for r in rows if pred(r.get))
    if stage.kind == "limit":
        return (r for _, r in zip(range(stage.number), rows, strict=False))
    if stage.kind == "select":
        fields = stage.fields
        return ({f: r.get(f) for f in fields} for r in rows)
    if stage.kind == "order":
        field = stage.fields[0]
        present: list[dict[str, Any]] = []
        missing: list[dict[str, Any]] = []
        for r in rows:
            (missing if r.get(field) is None else present).append(r)
        present.sort(key=lambda r: _sort_key(r[field]), reverse=stage.descending)
        return iter(present + missing)
    # aggregate count() by fields
    counts: Counter[tuple[Any, ...]] = Counter()
    for r in rows:
        counts[tuple(_hashable(r.get(f)) for f in stage.fields)] += 1
    return (
        {**dict(zip(stage.fields, key, strict=True)), "count": n}
        for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    )


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value)
    return (1, str(value))


class _Parser:
    def __init__(self, text: str, now: datetime) -> None:
        self.toks = _tokenize(text)
        self.i = 0
        self.now = now

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def word(self, *values: str) -> bool:
        tok = self.peek()
        return tok.kind == "word" and tok.text.lower() in values

    def expect(self, what: str, ok: bool) -> _Tok:
        tok = self.peek()
        if not ok:
            found = "the end of the query" if tok.kind == "eof" else repr(tok.text)
            raise SolSyntaxError(f"expected {what} at position {tok.pos}, found {found}")
        self.i += 1
        return tok

    def parse(self) -> SolQuery:
        table = self.expect("a table name", self.peek().kind == "word")
        if table.text != "events":
            raise SolSyntaxError(f"unknown table {table.text!r}: the emulator only has 'events'")
        stages = []
        while self.peek().text == "|":
            self.i += 1
            stages.append(self.stage())
        self.expect("'|' or the end of the query", self.peek().kind == "eof")
        return SolQuery(tuple(stages))

    def stage(self) -> Stage:
        tok = self.expect(
            "a stage (where, limit, select, order by, aggregate)", self.peek().kind == "word"
        )
        name = tok.text.lower()
        if name == "where":
            return Stage("where", predicate=self.or_cond())
        if name in ("limit", "take"):
            number = self.expect("a row count", self.peek().kind == "number")
            if "." in number.text or int(number.text) < 0:
                raise SolSyntaxError(f"limit needs a non-negative integer, got {number.text}")
            return Stage("limit", number=int(number.text))
        if name in ("select", "project"):
            return Stage("select", fields=self.field_list())
        if name in ("order", "sort"):
            self.expect("'by'", self.word("by"))
            field = self.field()
            descending = True
            if self.word("asc", "desc"):
                descending = self.peek().text.lower() == "desc"
                self.i += 1
            return Stage("order", fields=(field,), descending=descending)
        if name == "aggregate":
            self.expect("count()", self.word("count"))
            self.expect("'('", self.peek().text == "(")
            self.expect("')'", self.peek().text == ")")
            self.expect("'by'", self.word("by"))
            return Stage("aggregate", fields=self.field_list())
        raise SolSyntaxError(f"unsupported stage {tok.text!r} at position {tok.pos}")

    def field(self) -> str:
        return self.expect("a field name", self.peek().kind == "word").text

    def field_list(self) -> tuple[str, ...]:
        fields = [self.field()]
        while self.peek().text == ",":
            self.i += 1
            fields.append(self.field())
        return tuple(fields)

    def or_cond(self) -> Predicate:
        parts = [self.and_cond()]
        while self.word("or"):
            self.i += 1
            parts.append(self.and_cond())
        if len(parts) == 1:
            return parts[0]
        return lambda get: any(p(get) for p in parts)

    def and_cond(self) -> Predicate:
        parts = [self.not_cond()]
        while self.word("and"):
            self.i += 1
            parts.append(self.not_cond())
        if len(parts) == 1:
            return parts[0]
        return lambda get: all(p(get) for p in parts)

    def not_cond(self) -> Predicate:
        if self.word("not"):
            self.i += 1
            inner = self.not_cond()
            return lambda get: not inner(get)
        if self.peek().text == "(":
            self.i += 1
            inner = self.or_cond()
            self.expect("')'", self.peek().text == ")")
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        field = self.field()
        tok = self.peek()
        op = tok.text.lower()
        if (tok.kind == "op" and op in ("==", "!=", ">", ">=", "<", "<=")) or (
            tok.kind == "word" and op in ("contains", "startswith", "endswith", "in")
        ):
            self.i += 1
        else:
            found = "the end of the query" if tok.kind == "eof" else repr(tok.text)
            raise SolSyntaxError(
                f"expected an operator after {field!r} at position {tok.pos}, found {found}"
            )
        if op == "in":
            self.expect("'('", self.peek().text == "(")
            values = [self.literal()]
            while self.peek().text == ",":
                self.i += 1
                values.append(self.literal())
            self.expect("')'", self.peek().text == ")")
            return lambda get: any(_equal(v, get(field)) for v in values)
        value = self.literal()
        return _predicate(field, op, value)

    def literal(self) -> Any:
        tok = self.peek()
        if tok.kind == "string":
            self.i += 1
            return re.sub(r"\\(.)", r"\1", tok.text[1:-1])
        if tok.kind == "number":
            self.i += 1
            return float(tok.text) if "." in tok.text else int(tok.text)
        if tok.kind == "word" and tok.text.lower() in ("true", "false", "null"):
            self.i += 1
            return {"true": True, "false": False, "null": None}[tok.text.lower()]
        if tok.kind == "word" and tok.text.lower() == "ago":
            self.i += 1
            self.expect("'('", self.peek().text == "(")
            text = self.expect("a duration such as 24h", self.peek().kind == "duration").text
            self.expect("')'", self.peek().text == ")")
            try:
                return parse_time(f"-{text}", now=self.now)
            except ValueError:
                raise SolSyntaxError(
                    f"invalid duration {text!r} in ago(): use e.g. 30m, 24h, 7d"
                ) from None
        found = "the end of the query" if tok.kind == "eof" else repr(tok.text)
        raise SolSyntaxError(f"expected a value at position {tok.pos}, found {found}")


def _as_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-":
        try:
            return parse_time(value, now=datetime.now(timezone.utc))
        except ValueError:
            return None
    return None


def _equal(expected: Any, actual: Any) -> bool:
    if isinstance(actual, list):
        return any(_equal(expected, a) for a in actual)
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    return bool(expected == actual)


def _order(actual: Any, expected: Any) -> int | None:
    if isinstance(expected, datetime):
        when = _as_time(actual)
        if when is None:
            return None
        return (when > expected) - (when < expected)
    numbers = (int, float)
    if isinstance(actual, numbers) and isinstance(expected, numbers):
        return (actual > expected) - (actual < expected)
    if isinstance(actual, str) and isinstance(expected, str):
        return (actual > expected) - (actual < expected)
    return None


def _predicate(field: str, op: str, value: Any) -> Predicate:
    if op == "==":
        return lambda get: _equal(value, get(field))
    if op == "!=":
        return lambda get: not _equal(value, get(field))
    if op in ("contains", "startswith", "endswith"):
        needle = str(value).lower()

        def text(get: Accessor) -> bool:
            actual = get(field)
            items = actual if isinstance(actual, list) else [actual]
            for item in items:
                if item is None:
                    continue
                hay = str(item).lower()
                if (
                    (op == "contains" and needle in hay)
                    or (op == "startswith" and hay.startswith(needle))
                    or (op == "endswith" and hay.endswith(needle))
                ):
                    return True
            return False

        return text
    wanted = {">": (1,), ">=": (0, 1), "<": (-1,), "<=": (-1, 0)}[op]
    return lambda get: _order(get(field), value) in wanted


def parse_sol(text: str, *, now: datetime) -> SolQuery:
    """Parse SOL text (``now`` anchors ``ago()``); raises SolSyntaxError."""
    return _Parser(text, now).parse()
