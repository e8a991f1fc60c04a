"""The emulator's dork parser and matcher (pure, no event loop)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sekoia_async.testing._query import (
    And,
    MatchAll,
    Node,
    Not,
    Or,
    QuerySyntaxError,
    Term,
    compile_query,
    parse_query,
)

EVENT: dict[str, Any] = {
    "source.ip": "10.1.2.3",
    "destination.ip": "8.8.8.8",
    "destination.port": 443,
    "user.name": "alice",
    "host.name": "srv-web-01",
    "message": "User Alice logged in from 10.1.2.3",
    "alert_short_ids": ["AL0001", "AL0002"],
    "timestamp": "2024-08-15T09:38:04.715Z",
    "process.command_line": 'cmd.exe /c "echo hi"',
    "event.outcome": "success",
}


def matches(query: str, event: dict[str, Any] = EVENT) -> bool:
    return compile_query(query)(event.get)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", True),
        ("*", True),
        ('source.ip:"10.1.2.3"', True),
        ("source.ip:10.1.2.3", True),
        ('source.ip:"10.1.2.4"', False),
        ('source.ip:"127.0.0.1" OR destination.ip:"8.8.8.8"', True),
        ('source.ip:"127.0.0.1" OR destination.ip:"127.0.0.1"', False),
        ("user.name:alice AND destination.port:443", True),
        ("user.name:alice destination.port:80", False),  # implicit AND
        ("user.name:alice && destination.port:443", True),
        ("user.name:bob || destination.port:443", True),
        ("NOT user.name:bob", True),
        ("!user.name:alice", False),
        ("NOT (user.name:alice OR user.name:bob)", False),
        ("user.name:(bob OR alice)", True),
        ("user.name:(bob OR carol)", False),
        ("user.name:(NOT bob)", True),
        ("host.name:srv-web-*", True),
        ("host.name:srv-?eb-01", True),
        ("host.name:srv-db-*", False),
        (r"host.name:srv\-web\-01", True),
        ("user.name:*", True),
        ("missing.field:*", False),
        ("NOT missing.field:*", True),
        ("destination.port:>400", True),
        ("destination.port:>=443", True),
        ("destination.port:<443", False),
        ("destination.port:<=443", True),
        ("destination.port:[400 TO 500]", True),
        ("destination.port:[444 TO *]", False),
        ("destination.port:[* TO 443]", True),
        ('timestamp:>"2024-08-15T00:00:00Z"', True),
        ('timestamp:<"2024-08-15T09:38:04+00:00"', False),
        ("alert_short_ids:AL0002", True),
        ('alert_short_ids:"AL0003"', False),
        ("alert_short_ids:AL*", True),
        ("logged", True),  # free text: case-insensitive substring of message
        ('"user alice"', True),
        ("absent", False),
        ('process.command_line:"cmd.exe /c \\"echo hi\\""', True),
        ("destination.port:443.0", True),
        ("(user.name:alice AND (destination.port:22 OR destination.port:443))", True),
        ("user.name:alice AND NOT event.outcome:failure", True),
        ("user.name:alice OR user.name:bob AND destination.port:22", True),  # AND binds tighter
        ("(user.name:alice OR user.name:bob) AND destination.port:22", False),
    ],
)
def test_matching(query: str, expected: bool) -> None:
    assert matches(query) is expected


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ('source.ip:"unterminated', "unterminated quoted string"),
        ("(user.name:alice", "expected ')'"),
        ("user.name:alice)", "expected AND, OR or the end"),
        ("user.name:", "expected a value for 'user.name'"),
        ("AND user.name:alice", "expected a term"),
        ("user.name:alice OR", "expected a term"),
        ("destination.port:[1 TO", "upper bound"),
        ("destination.port:[1 2]", "expected TO"),
        ("destination.port:{1 TO 2}", "use [a TO b]"),
        ("a:b:c", "expected AND, OR"),
        ("destination.port:>", "a value after >"),
        ("NOT", "expected a term"),
    ],
)
def test_syntax_errors_say_where_and_what(query: str, fragment: str) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse_query(query)
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)


def test_precedence_not_and_or() -> None:
    tree = parse_query("a:1 OR b:2 AND NOT c:3")
    assert tree == Or(
        (Term("a", "exact", "1"), And((Term("b", "exact", "2"), Not(Term("c", "exact", "3")))))
    )
    assert parse_query("") == MatchAll()
    assert parse_query("   ") == MatchAll()


# Property: rendering any syntax tree and parsing it back gives the same tree.
FIELDS = st.sampled_from(["user.name", "source.ip", "destination.port", "host.name"])
PLAIN = st.text(alphabet="abcdefghij0123456789.-_", min_size=1, max_size=8).filter(
    lambda s: s not in ("AND", "OR", "NOT", "TO")
)
QUOTED = st.text(alphabet='abc XYZ:()"\\*?-', min_size=0, max_size=8)

terms = st.one_of(
    st.builds(lambda f, v: Term(f, "exact", v), FIELDS, PLAIN),
    st.builds(lambda f, v: Term(f, "exact", v), FIELDS, QUOTED),
    st.builds(lambda f, v: Term(f, "wildcard", v + "*"), FIELDS, PLAIN),
    st.builds(lambda f: Term(f, "exists"), FIELDS),
    st.builds(
        lambda f, op, v: Term(f, op, v), FIELDS, st.sampled_from([">", ">=", "<", "<="]), PLAIN
    ),
    st.builds(lambda f, lo, hi: Term(f, "range", lo, hi), FIELDS, PLAIN, PLAIN),
    st.builds(lambda v: Term("", "text", v), QUOTED),
)


def _trees(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return st.one_of(
        st.builds(Not, children),
        st.builds(lambda c: And(tuple(c)), st.lists(children, min_size=2, max_size=3)),
        st.builds(lambda c: Or(tuple(c)), st.lists(children, min_size=2, max_size=3)),
    )


trees = st.recursive(terms, _trees, max_leaves=8)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(node: Node) -> str:
    if isinstance(node, MatchAll):
        return "*"
    if isinstance(node, Not):
        return f"NOT ({render(node.child)})"
    if isinstance(node, (And, Or)):
        joiner = " AND " if isinstance(node, And) else " OR "
        return joiner.join(f"({render(c)})" for c in node.children)
    if node.kind == "text":
        return _quote(node.value)
    if node.kind == "exists":
        return f"{node.field}:*"
    if node.kind == "wildcard":
        return f"{node.field}:{node.value}"
    if node.kind == "range":
        return f"{node.field}:[{_quote(node.value)} TO {_quote(node.high)}]"
    if node.kind == "exact":
        return f"{node.field}:{_quote(node.value)}"
    return f"{node.field}:{node.kind}{_quote(node.value)}"


@given(trees)
def test_render_then_parse_round_trips(tree: Node) -> None:
    assert parse_query(render(tree)) == tree


@given(st.text(max_size=40))
def test_parser_only_raises_syntax_errors(text: str) -> None:
    try:
        query = compile_query(text)
    except QuerySyntaxError:
        return
    assert query(EVENT.get) in (True, False)


@given(trees)
def test_not_is_the_complement(tree: Node) -> None:
    text = render(tree)
    assert matches(f"NOT ({text})") is (not matches(text))
