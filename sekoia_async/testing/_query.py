"""A real subset of Sekoia's "dork" query language: a pure parser and matcher (no I/O).

Supported::

    field:"exact value"      field:value       field:web-*  field:?b      (wildcards * and ?)
    field:*                  (the field exists)
    a AND b   a OR b   NOT a   !a   a && b   a || b   a b  (implicit AND)   ( ... )
    field:(a OR b)           field:(NOT a)
    field:>10  field:>=10  field:<10  field:<=10   field:[10 TO 20]  (inclusive; * is open)
    "free text" / word       (case-insensitive substring of ``message``)
    ""                       (the empty term matches everything)

Precedence: NOT > AND > OR. Field values that are lists match when any element matches.
Comparisons are numeric when both sides are numbers, chronological when both are ISO times,
and lexicographic otherwise. A query that does not parse raises ``QuerySyntaxError``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import attrs

__all__ = ["Query", "QuerySyntaxError", "compile_query", "parse_query"]

Accessor = Callable[[str], Any]
"""Returns an event's value for a dotted field name, or None when the event lacks it."""


class QuerySyntaxError(ValueError):
    """The query text is not valid dork; the message names the position and what was expected."""


@attrs.frozen
class MatchAll:
    pass


@attrs.frozen
class Term:
    field: str  # "" = free text on message
    kind: str  # "exact" | "wildcard" | "exists" | ">" | ">=" | "<" | "<=" | "range" | "text"
    value: str = ""
    high: str = ""


@attrs.frozen
class Not:
    child: Node


@attrs.frozen
class And:
    children: tuple[Node, ...]


@attrs.frozen
class Or:
    children: tuple[Node, ...]


Node = MatchAll | Term | Not | And | Or


@attrs.frozen
class _Tok:
    kind: str  # WORD STRING ( ) [ ] : AND OR NOT OP TO EOF
    text: str
    pos: int


_SPECIAL = set('()[]{}:"')
_OPS = (">=", "<=", ">", "<")


def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c in "()[]:":
            toks.append(_Tok(c, c, i))
            i += 1
            continue
        if c in "{}":
            raise QuerySyntaxError(f"unexpected {c!r} at position {i}: use [a TO b] for ranges")
        if text.startswith(("&&", "||"), i):
            toks.append(_Tok("AND" if c == "&" else "OR", text[i : i + 2], i))
            i += 2
            continue
        if c == "!":
            toks.append(_Tok("NOT", c, i))
            i += 1
            continue
        op = next((o for o in _OPS if text.startswith(o, i)), None)
        if op is not None and toks and toks[-1].kind == ":":
            toks.append(_Tok("OP", op, i))
            i += len(op)
            continue
        if c == '"':
            start, i, buf = i, i + 1, []
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                buf.append(text[i])
                i += 1
            if i >= n:
                raise QuerySyntaxError(f"unterminated quoted string starting at position {start}")
            toks.append(_Tok("STRING", "".join(buf), start))
            i += 1
            continue
        start, buf = i, []
        while i < n and not text[i].isspace() and text[i] not in _SPECIAL:
            if text[i] == "\\" and i + 1 < n:
                i += 1
                buf.append("\\" + text[i])  # keep escapes so wildcards can be escaped
            else:
                buf.append(text[i])
            i += 1
        word = "".join(buf)
        kind = {"AND": "AND", "OR": "OR", "NOT": "NOT", "TO": "TO"}.get(word, "WORD")
        toks.append(_Tok(kind, word, start))
    toks.append(_Tok("EOF", "", n))
    return toks


_STARTS_UNARY = {"WORD", "STRING", "(", "NOT"}


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokenize(text)
        self.i = 0

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self, kind: str, what: str) -> _Tok:
        tok = self.peek()
        if tok.kind != kind:
            found = "the end of the query" if tok.kind == "EOF" else repr(tok.text)
            raise QuerySyntaxError(f"expected {what} at position {tok.pos}, found {found}")
        self.i += 1
        return tok

    def parse(self) -> Node:
        if self.peek().kind == "EOF":
            return MatchAll()
        node = self.or_expr(None)
        self.take("EOF", "AND, OR or the end of the query")
        return node

    # ``field`` is set inside ``field:( ... )`` groups, where bare words are values.
    def or_expr(self, field: str | None) -> Node:
        parts = [self.and_expr(field)]
        while self.peek().kind == "OR":
            self.i += 1
            parts.append(self.and_expr(field))
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_expr(self, field: str | None) -> Node:
        parts = [self.unary(field)]
        while True:
            kind = self.peek().kind
            if kind == "AND":
                self.i += 1
            elif kind not in _STARTS_UNARY:
                break
            parts.append(self.unary(field))
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def unary(self, field: str | None) -> Node:
        if self.peek().kind == "NOT":
            self.i += 1
            return Not(self.unary(field))
        return self.primary(field)

    def primary(self, field: str | None) -> Node:
        tok = self.peek()
        if tok.kind == "(":
            self.i += 1
            node = self.or_expr(field)
            self.take(")", "')'")
            return node
        if field is not None:
            return self.value(field)
        if tok.kind == "WORD" and self.toks[self.i + 1].kind == ":":
            self.i += 2
            name = _unescape(tok.text)
            if not name:
                raise QuerySyntaxError(f"empty field name at position {tok.pos}")
            if self.peek().kind == "(":
                self.i += 1
                node = self.or_expr(name)
                self.take(")", "')' closing the value group")
                return node
            return self.value(name)
        if tok.kind == "STRING":
            self.i += 1
            return Term("", "text", tok.text)
        if tok.kind == "WORD":
            self.i += 1
            if tok.text == "*":
                return MatchAll()
            return Term("", "text", _unescape(tok.text))
        found = "the end of the query" if tok.kind == "EOF" else repr(tok.text)
        raise QuerySyntaxError(f"expected a term at position {tok.pos}, found {found}")

    def value(self, field: str) -> Node:
        tok = self.peek()
        if tok.kind == "OP":
            self.i += 1
            operand = self.scalar("a value after " + tok.text)
            return Term(field, tok.text, operand)
        if tok.kind == "[":
            self.i += 1
            low = self.scalar("the lower bound of the range")
            self.take("TO", "TO in the range")
            high = self.scalar("the upper bound of the range")
            self.take("]", "']' closing the range")
            return Term(field, "range", low, high)
        if tok.kind == "STRING":
            self.i += 1
            return Term(field, "exact", tok.text)
        if tok.kind == "WORD":
            self.i += 1
            if tok.text == "*":
                return Term(field, "exists")
            if _has_wildcard(tok.text):
                return Term(field, "wildcard", tok.text)
            return Term(field, "exact", _unescape(tok.text))
        found = "the end of the query" if tok.kind == "EOF" else repr(tok.text)
        raise QuerySyntaxError(
            f"expected a value for {field!r} at position {tok.pos}, found {found}"
        )

    def scalar(self, what: str) -> str:
        tok = self.peek()
        if tok.kind not in ("WORD", "STRING"):
            found = "the end of the query" if tok.kind == "EOF" else repr(tok.text)
            raise QuerySyntaxError(f"expected {what} at position {tok.pos}, found {found}")
        self.i += 1
        return tok.text if tok.kind == "STRING" else _unescape(tok.text)


def _has_wildcard(word: str) -> bool:
    return re.search(r"(?<!\\)[*?]", word) is not None


def _unescape(word: str) -> str:
    return re.sub(r"\\(.)", r"\1", word)


def _wildcard_regex(word: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(word):
        c = word[i]
        if c == "\\" and i + 1 < len(word):
            out.append(re.escape(word[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "*" else "." if c == "?" else re.escape(c))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def parse_query(text: str) -> Node:
    """The syntax tree of a dork query; raises QuerySyntaxError."""
    return _Parser(text).parse()


def _num(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) < 10 or value[4:5] != "-":
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _compare(actual: Any, operand: str) -> int | None:
    """-1/0/1 comparing ``actual`` with ``operand``, or None when they are not comparable."""
    a, b = _num(actual), _num(operand)
    if a is not None and b is not None:
        return (a > b) - (a < b)
    ta, tb = _time(actual), _time(operand)
    if ta is not None and tb is not None:
        return (ta > tb) - (ta < tb)
    if isinstance(actual, str):
        return (actual > operand) - (actual < operand)
    return None


def _scalar_pred(term: Term) -> Callable[[Any], bool]:
    kind, value = term.kind, term.value
    if kind == "exact":
        number = _num(value)

        def exact(v: Any) -> bool:
            if isinstance(v, str):
                return v == value
            if isinstance(v, bool):
                return str(v).lower() == value.lower()
            return number is not None and _num(v) == number

        return exact
    if kind == "wildcard":
        rx = _wildcard_regex(value)
        return lambda v: (
            v is not None and rx.fullmatch(v if isinstance(v, str) else str(v)) is not None
        )
    if kind == "text":
        needle = value.lower()
        return lambda v: isinstance(v, str) and needle in v.lower()
    if kind == "range":
        low, high = term.value, term.high

        def in_range(v: Any) -> bool:
            lo_ok = low == "*" or ((c := _compare(v, low)) is not None and c >= 0)
            hi_ok = high == "*" or ((c := _compare(v, high)) is not None and c <= 0)
            return lo_ok and hi_ok

        return in_range
    want = {">": (1,), ">=": (0, 1), "<": (-1,), "<=": (-1, 0)}[kind]
    return lambda v: _compare(v, value) in want


Query = Callable[[Accessor], bool]


def _compile(node: Node) -> Query:
    if isinstance(node, MatchAll):
        return lambda get: True
    if isinstance(node, Not):
        child = _compile(node.child)
        return lambda get: not child(get)
    if isinstance(node, And):
        parts = [_compile(c) for c in node.children]
        return lambda get: all(p(get) for p in parts)
    if isinstance(node, Or):
        parts = [_compile(c) for c in node.children]
        return lambda get: any(p(get) for p in parts)
    field = node.field or "message"
    if node.kind == "exists":
        return lambda get: get(field) is not None
    pred = _scalar_pred(node)

    def match(get: Accessor) -> bool:
        v = get(field)
        if v is None:
            return False
        if isinstance(v, list):
            return any(pred(x) for x in v)
        return pred(v)

    return match


def compile_query(text: str) -> Query:
    """A predicate over an event accessor; raises QuerySyntaxError for invalid queries."""
    return _compile(parse_query(text))


def query_fields(node: Node) -> set[str]:
    """The fields a query reads (free text reads ``message``)."""
    if isinstance(node, MatchAll):
        return set()
    if isinstance(node, Not):
        return query_fields(node.child)
    if isinstance(node, (And, Or)):
        return set().union(*(query_fields(c) for c in node.children))
    return {node.field or "message"}
