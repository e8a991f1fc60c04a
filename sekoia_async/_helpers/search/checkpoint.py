"""Continuation tokens of a streaming search: versioned, self-checking JSON (never pickle). Pure.

A token is a plain dict (``json.dumps``-able) holding everything needed to carry on reading:
the job uuid, the query and its window (as given and as resolved), the page size, the total and
``offset``, the number of events already *yielded to the consumer* (not merely fetched). A
``digest`` over the rest catches a token that was edited or truncated by accident; it is not a
signature (a token carries no secret, and none is needed to use it).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import attrs

from ..._times import parse_time
from ..._transport.paths import validate_uuid
from .spec import SearchSpec, check_max_events, check_options, check_page_size

__all__ = ["TOKEN_TYPE", "TOKEN_VERSION", "Checkpoint", "decode_token", "encode_token"]

TOKEN_TYPE = "sekoia-async/event-search"
TOKEN_VERSION = 1
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@attrs.frozen
class Checkpoint:
    """A decoded token: where a search stands."""

    spec: SearchSpec
    job_uuid: str | None
    total: int | None
    offset: int


def _digest(body: Mapping[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def encode_token(checkpoint: Checkpoint) -> dict[str, Any]:
    """The JSON-serialisable token of a checkpoint."""
    spec = checkpoint.spec
    body: dict[str, Any] = {
        "type": TOKEN_TYPE,
        "version": TOKEN_VERSION,
        "job_uuid": checkpoint.job_uuid,
        "query": {"term": spec.term, "options": dict(spec.options)},
        "window": {
            "earliest": spec.earliest,
            "latest": spec.latest,
            "earliest_resolved": spec.earliest_resolved,
            "latest_resolved": spec.latest_resolved,
        },
        "page_size": spec.page_size,
        "max_events": spec.max_events,
        "total": checkpoint.total,
        "offset": checkpoint.offset,
    }
    body["digest"] = _digest(body)
    return body


def _bad(reason: str) -> ValueError:
    return ValueError(f"invalid search checkpoint token: {reason}")


def _field(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in data:
        raise _bad(f"missing {where}{key!r}")
    value = data[key]
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise _bad(f"{where}{key!r} has the wrong type (bool)")
    if not isinstance(value, kind):
        raise _bad(f"{where}{key!r} has the wrong type ({type(value).__name__})")
    return value


def decode_token(token: Mapping[str, Any] | str | bytes) -> Checkpoint:
    """Validate a token (a dict, or its JSON text) and return its checkpoint.

    Raises ValueError saying what is wrong: not a token, unsupported version, edited or
    inconsistent fields.
    """
    if isinstance(token, (str, bytes)):
        try:
            token = json.loads(token)
        except ValueError:
            raise _bad("not JSON") from None
    if not isinstance(token, Mapping):
        raise _bad(f"expected a dict from checkpoint(), got {type(token).__name__}")
    if token.get("type") != TOKEN_TYPE:
        raise _bad(f"not an event-search checkpoint (type {token.get('type')!r})")
    version = token.get("version")
    if version != TOKEN_VERSION:
        raise ValueError(
            f"unsupported search checkpoint version {version!r}: this sekoia-async reads version "
            f"{TOKEN_VERSION}; resume with the sekoia-async release that wrote the token"
        )
    body = {k: v for k, v in token.items() if k != "digest"}
    if token.get("digest") != _digest(body):
        raise _bad(
            "its digest does not match its content (edited or corrupted); use a token "
            "exactly as checkpoint() returned it"
        )

    job_uuid = _field(token, "job_uuid", (str, type(None)), "")
    query = _field(token, "query", Mapping, "")
    window = _field(token, "window", Mapping, "")
    term = _field(query, "term", str, "query.")
    options = _field(query, "options", Mapping, "query.")
    texts = {
        k: _field(window, k, str, "window.")
        for k in ("earliest", "latest", "earliest_resolved", "latest_resolved")
    }
    total = _field(token, "total", (int, type(None)), "")
    offset = _field(token, "offset", int, "")
    page_size = _field(token, "page_size", int, "")
    max_events = _field(token, "max_events", (int, type(None)), "")
    try:
        page_size = check_page_size(page_size)
        max_events = check_max_events(max_events)
        options = check_options(options)
    except (TypeError, ValueError) as exc:
        raise _bad(str(exc)) from None
    if offset < 0 or (total is not None and (total < 0 or offset > total)):
        raise _bad(f"offset {offset} is outside the results (total {total})")
    if max_events is not None and offset > max_events:
        raise _bad(f"offset {offset} is past max_events {max_events}")
    if job_uuid is not None:
        try:
            job_uuid = validate_uuid(job_uuid)
        except ValueError:
            raise _bad(f"job_uuid {job_uuid!r} is not a UUID") from None
    for name in ("earliest_resolved", "latest_resolved"):
        try:
            parse_time(texts[name], now=_EPOCH)
        except ValueError:
            raise _bad(f"window.{name} {texts[name]!r} is not a time") from None
    spec = SearchSpec(
        term=term,
        page_size=page_size,
        max_events=max_events,
        options=dict(options),
        **texts,
    )
    return Checkpoint(spec=spec, job_uuid=job_uuid, total=total, offset=offset)
