"""client.intelligence (Intelligence Center) against the emulator, plus AsyncPager.cursor."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime

import pytest

from sekoia_async import (
    DEFAULT_FEED,
    AsyncPager,
    BadRequestError,
    NotFoundError,
    Observable,
    PermissionDeniedError,
    SekoiaClient,
    StixBundle,
    StixObject,
)
from sekoia_async._resources.intelligence import indicator_chunks
from sekoia_async.testing import SekoiaEmulator
from sekoia_async.testing._domains.inthreat import InthreatStore, inthreat_store


@pytest.fixture
async def emu() -> AsyncIterator[SekoiaEmulator]:
    async with SekoiaEmulator(seed=5) as emulator:
        yield emulator


@pytest.fixture
async def client(emu: SekoiaEmulator) -> AsyncIterator[SekoiaClient]:
    async with SekoiaClient(emu.api_key, base_url=emu.base_url, max_retries=0) as c:
        yield c


def _store(emu: SekoiaEmulator) -> InthreatStore:
    return inthreat_store(emu.state)


def _visible_feed(emu: SekoiaEmulator) -> list[str]:
    return [o["id"] for o in _store(emu).feed if not o.get("revoked")]


# --- indicators, context, observables ----------------------------------------------------------


@pytest.mark.anyio
async def test_find_indicators_returns_the_stix_indicator(client: SekoiaClient) -> None:
    found = await client.intelligence.find_indicators("eicar@sekoia.io", type="email-addr")
    assert len(found) == 1
    indicator = found[0]
    assert isinstance(indicator, StixObject)
    assert indicator.type == "indicator"
    assert indicator.pattern == "[email-addr:value = 'eicar@sekoia.io']"
    assert indicator.x_ic_observable_types == ("email-addr",)
    assert indicator.indicator_types == ("benign",)
    assert indicator.valid_from is not None
    assert indicator.valid_from.tzinfo is not None
    assert indicator.raw["x_ic_is_in_flint"] is False


@pytest.mark.anyio
async def test_unknown_indicator_is_an_empty_list(client: SekoiaClient) -> None:
    assert await client.intelligence.find_indicators("nobody@example.org", type="email-addr") == []
    # The type must match too: the same value as another type is not found.
    assert await client.intelligence.find_indicators("eicar@sekoia.io", type="url") == []
    assert await client.intelligence.indicator_context("nobody@example.org", type="url") == []


@pytest.mark.anyio
async def test_indicator_context_bundle_links_indicator_and_threat(client: SekoiaClient) -> None:
    bundles = await client.intelligence.indicator_context("eicar@sekoia.io", type="email-addr")
    assert len(bundles) == 1
    bundle = bundles[0]
    assert isinstance(bundle, StixBundle)
    assert bundle.type == "bundle"
    assert bundle.id is not None
    (indicator,) = bundle.of_type("indicator")
    (relationship,) = bundle.of_type("relationship")
    assert relationship.relationship_type == "indicates"
    assert relationship.source_ref == indicator.id
    assert relationship.target_ref is not None
    threat = bundle.get(relationship.target_ref)
    assert threat is not None
    assert (threat.type, threat.name) == ("intrusion-set", "EICAR")
    assert {o.type for o in bundle} >= {"identity", "marking-definition"}
    assert len(bundle) == len(bundle.objects)


@pytest.mark.anyio
async def test_observables_filter_by_value_and_type(client: SekoiaClient) -> None:
    found = [o async for o in client.intelligence.observables(value="eicar@sekoia.io")]
    assert [(o.type, o.value) for o in found] == [("email-addr", "eicar@sekoia.io")]
    assert isinstance(found[0], Observable)
    assert found[0].id.startswith("email-addr--")
    assert [o async for o in client.intelligence.observables(value="nope.example")] == []


@pytest.mark.anyio
async def test_observables_pages_every_item_exactly_once(
    emu: SekoiaEmulator, client: SekoiaClient
) -> None:
    expected = [o["id"] for o in _store(emu).observables if o["type"] == "ipv4-addr"]
    assert len(expected) > 30
    pager = client.intelligence.observables(type="ipv4-addr", limit=7)
    got = [o.id async for o in pager]
    assert got == expected
    assert all(o.type == "ipv4-addr" for o in [o async for o in pager])


# --- feed --------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_feed_yields_every_object_in_order_exactly_once(
    emu: SekoiaEmulator, client: SekoiaClient
) -> None:
    before = emu.stats.by_endpoint["inthreat.feed"]
    got = [o.id async for o in client.intelligence.feed(limit=37)]
    assert got == _visible_feed(emu)
    assert len(got) == len(set(got)) > 300
    calls = emu.stats.by_endpoint["inthreat.feed"] - before
    # Full pages until the last, short one: no request after it.
    assert calls == -(-len(got) // 37) + (1 if len(got) % 37 == 0 else 0)


@pytest.mark.anyio
async def test_feed_resumes_from_a_saved_cursor(emu: SekoiaEmulator, client: SekoiaClient) -> None:
    first: list[str] = []
    saved: str | None = None
    async for page in client.intelligence.feed(limit=50, types=["indicator"]).pages():
        first.extend(o.id for o in page.items)
        saved = page.next_cursor
        if len(first) >= 100:
            break
    assert saved is not None
    rest = [o.id async for o in client.intelligence.feed(cursor=saved, types=["indicator"])]
    expected = [o["id"] for o in _store(emu).feed if o["type"] == "indicator" and not o["revoked"]]
    assert first + rest == expected
    # Nothing new since the end: the final cursor gives an empty feed, without error.
    pages = [p async for p in client.intelligence.feed(cursor=saved, limit=2000).pages()]
    last_cursor = pages[-1].next_cursor
    assert last_cursor is not None
    assert [o async for o in client.intelligence.feed(cursor=last_cursor)] == []


@pytest.mark.anyio
async def test_feed_filters_and_max_items(emu: SekoiaEmulator, client: SekoiaClient) -> None:
    store = _store(emu)
    malware = [o async for o in client.intelligence.feed(types=["malware"])]
    assert [o.name for o in malware] == ["Hajime", "SessionManager", "Lumma Stealer"]
    capped = [o.id async for o in client.intelligence.feed(max_items=5)]
    assert capped == _visible_feed(emu)[:5]
    with_revoked = [o async for o in client.intelligence.feed(include_revoked=True, limit=500)]
    assert len(with_revoked) == len(store.feed)
    assert any(o.revoked for o in with_revoked)
    middle = store.feed[len(store.feed) // 2]
    after = datetime.fromisoformat(middle["modified"].replace("Z", "+00:00"))
    newer = [o async for o in client.intelligence.feed(modified_after=after, limit=500)]
    assert newer
    assert all(o.modified is not None and o.modified > after for o in newer)


@pytest.mark.anyio
async def test_feed_errors(client: SekoiaClient) -> None:
    with pytest.raises(NotFoundError, match="Unknown feed"):
        await client.intelligence.feed("00000000-0000-4000-8000-000000000000").first_page()
    with pytest.raises(BadRequestError, match="cursor"):
        await client.intelligence.feed(cursor="not a cursor").first_page()
    with pytest.raises(ValueError, match="limit=2001"):
        client.intelligence.feed(limit=2001)


# --- IOC collections ---------------------------------------------------------------------


@pytest.mark.anyio
async def test_add_indicators_chunks_by_100(emu: SekoiaEmulator, client: SekoiaClient) -> None:
    collection = _store(emu).collection_ids[0]
    values = [f"10.0.{i // 200}.{i % 200}" for i in range(250)]
    before = emu.stats.by_endpoint["inthreat.ioc_indicators.add"]
    created = await client.intelligence.add_indicators(
        collection, values, default_fields={"description": "from a test"}
    )
    assert emu.stats.by_endpoint["inthreat.ioc_indicators.add"] - before == 3
    assert [o.name for o in created] == values
    assert all(o.description == "from a test" for o in created)
    assert created[0].pattern == "[ipv4-addr:value = '10.0.0.0']"
    assert len(_store(emu).collections[collection]) == 250
    # The new indicators are now known to the indicators lookup.
    found = await client.intelligence.find_indicators("10.0.1.49", type="ipv4-addr")
    assert [o.id for o in found] == [created[249].id]


@pytest.mark.anyio
async def test_add_indicators_errors(emu: SekoiaEmulator, client: SekoiaClient) -> None:
    with pytest.raises(NotFoundError, match="Unknown IOC collection"):
        await client.intelligence.add_indicators("00000000-0000-4000-8000-000000000000", ["a.b"])
    with pytest.raises(ValueError, match="empty"):
        await client.intelligence.add_indicators(_store(emu).collection_ids[0], ["ok.com", " "])
    assert emu.stats.by_endpoint["inthreat.ioc_indicators.add"] == 1  # only the 404


@pytest.mark.anyio
async def test_missing_permission_is_403(emu: SekoiaEmulator) -> None:
    key = emu.add_api_key(["View observables"])
    async with SekoiaClient(key, base_url=emu.base_url, max_retries=0) as limited:
        with pytest.raises(PermissionDeniedError, match="View intelligence"):
            await limited.intelligence.find_indicators("eicar@sekoia.io", type="email-addr")
        with pytest.raises(PermissionDeniedError, match="View intelligence"):
            await limited.intelligence.feed().first_page()
        with pytest.raises(PermissionDeniedError, match="Manage IOC collections"):
            await limited.intelligence.add_indicators(_store(emu).collection_ids[0], ["x.org"])
        assert [o async for o in limited.intelligence.observables(value="eicar@sekoia.io")]


def test_indicator_chunks_validate_and_split() -> None:
    chunks = indicator_chunks([f"v{i}.com" for i in range(201)])
    assert [len(c) for c in chunks] == [100, 100, 1]
    assert chunks[2] == [{"value": "v200.com"}]
    assert indicator_chunks([{"value": "a.com", "valid_from": "2024-01-01"}]) == [
        [{"value": "a.com", "valid_from": "2024-01-01"}]
    ]
    assert indicator_chunks([]) == []
    with pytest.raises(TypeError, match="single string"):
        indicator_chunks("a.com")
    with pytest.raises(ValueError, match="'value'"):
        indicator_chunks([{"valid_from": "2024-01-01"}])
    with pytest.raises(TypeError, match="int"):
        indicator_chunks([3])  # type: ignore[list-item]


# --- AsyncPager.cursor (no network: the fetcher is a function) ------------------------------------


class FakeCursorApi:
    """Serves ``items`` in pages; cursors are ``"c<offset>"``; records every call."""

    def __init__(
        self, items: Sequence[int], *, last_cursor: bool = True, empty_tail: bool = False
    ) -> None:
        self.items = list(items)
        self.last_cursor = last_cursor
        self.empty_tail = empty_tail
        self.calls: list[tuple[int, str | None]] = []

    async def fetch(self, limit: int, cursor: str | None) -> tuple[list[int], str | None]:
        self.calls.append((limit, cursor))
        start = 0 if cursor is None else int(cursor[1:])
        page = self.items[start : start + limit]
        end = start + len(page)
        if self.empty_tail and start >= len(self.items):
            return [], f"c{end}"
        if end >= len(self.items) and not self.last_cursor:
            return page, None
        return page, f"c{end}"


@pytest.mark.anyio
async def test_cursor_pager_order_exactly_once_and_stops_on_short_page() -> None:
    api = FakeCursorApi(range(23))
    got = [i async for i in AsyncPager.cursor(api.fetch, page_size=5)]
    assert got == list(range(23))
    assert api.calls == [(5, None), (5, "c5"), (5, "c10"), (5, "c15"), (5, "c20")]


@pytest.mark.anyio
async def test_cursor_pager_stops_on_empty_page() -> None:
    api = FakeCursorApi(range(10), empty_tail=True)
    pages = [p async for p in AsyncPager.cursor(api.fetch, page_size=5).pages()]
    assert [list(p.items) for p in pages] == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    assert api.calls == [(5, None), (5, "c5"), (5, "c10")]
    assert [p.next_cursor for p in pages] == ["c5", "c10"]


@pytest.mark.anyio
async def test_cursor_pager_stops_without_next_cursor() -> None:
    api = FakeCursorApi(range(10), last_cursor=False)
    got = [i async for i in AsyncPager.cursor(api.fetch, page_size=5)]
    assert got == list(range(10))
    assert api.calls == [(5, None), (5, "c5")]  # a full page, but no cursor: done


@pytest.mark.anyio
async def test_cursor_pager_start_cursor_max_items_and_reiteration() -> None:
    api = FakeCursorApi(range(40))
    pager = AsyncPager.cursor(api.fetch, page_size=10, cursor="c7", max_items=12)
    assert [i async for i in pager] == list(range(7, 19))
    assert api.calls == [(10, "c7"), (10, "c17")]
    api.calls.clear()
    # A second iteration starts again from the start cursor (fresh per-iteration state).
    assert [i async for i in pager] == list(range(7, 19))
    assert api.calls == [(10, "c7"), (10, "c17")]
    first = await AsyncPager.cursor(api.fetch, page_size=3, max_items=2).first_page()
    assert first.items == (0, 1)
    assert first.next_cursor == "c2"


@pytest.mark.anyio
async def test_cursor_pager_pipelined_and_errors() -> None:
    api = FakeCursorApi(range(17))
    pager = AsyncPager.cursor(api.fetch, page_size=4)
    async with pager:
        assert [i async for i in pager] == list(range(17))

    async def failing(limit: int, cursor: str | None) -> tuple[list[int], str | None]:
        if cursor is not None:
            raise NotFoundError("gone", status=404, method="GET", url="http://x/")
        return [1, 2], "next"

    got: list[int] = []

    async def consume() -> None:
        async for i in AsyncPager.cursor(failing, page_size=2):
            got.append(i)

    with pytest.raises(NotFoundError):
        await consume()
    assert got == [1, 2]  # the page before the failure was delivered


def test_cursor_pager_rejects_bad_page_sizes() -> None:
    api = FakeCursorApi([])
    with pytest.raises(ValueError, match="limit"):
        AsyncPager.cursor(api.fetch, page_size=0)
    with pytest.raises(ValueError, match=r"1\.\.2000"):
        AsyncPager.cursor(api.fetch, page_size=2001, max_page_size=2000)


def test_default_feed_is_sekoias() -> None:
    assert DEFAULT_FEED == "d6092c37-d8d7-45c3-8aff-c4dc26030608"
