"""The page planner behind AsyncPager: which pages to fetch next. Pure, no I/O.

Theory of operation. A list endpoint is read in pages of ``page_size`` items at aligned offsets
(0, n, 2n, ...), so page-numbered endpoints (``page = offset // n + 1``) work the same way.

- Until a page has told the total, the planner hands out one page at a time (sequential).
- Once ``total`` is known, it hands out up to ``window`` pages at once, which the driver fetches
  concurrently; results are recorded in offset order.
- Reading stops at ``max_items``, at the total, at ``has_more == false``, or at the first short
  (or empty) page, whichever comes first. A total is a lower bound while a page says
  ``has_more == true`` (counts may be capped): reading then goes on one page at a time.
  Endpoints that send neither total nor has_more are read until a short page, as Sekoia's
  docs recommend.
"""

from __future__ import annotations

import attrs

__all__ = ["PagePlanner"]


@attrs.define
class PagePlanner:
    """Plans the offsets of the next batch of pages and records what each page returned."""

    page_size: int
    window: int = 4
    max_items: int | None = None
    #: The offset of the first page not planned yet.
    next_offset: int = 0
    #: The latest total reported by the server, if any.
    total: int | None = None
    #: Items recorded so far (after truncation to ``max_items``).
    received: int = 0
    done: bool = False

    def __attrs_post_init__(self) -> None:
        if self.page_size < 1:
            raise ValueError(f"page_size must be >= 1, got {self.page_size}")
        if self.window < 1:
            raise ValueError(f"concurrency must be >= 1, got {self.window}")
        if self.max_items is not None and self.max_items < 0:
            raise ValueError(f"max_items must be >= 0 or None, got {self.max_items}")
        if self.max_items == 0:
            self.done = True

    @property
    def limit(self) -> int:
        """The ``limit`` of every request: no larger than needed when ``max_items`` is small."""
        if self.max_items is not None and self.max_items < self.page_size:
            return max(self.max_items, 1)
        return self.page_size

    def next_batch(self) -> list[int]:
        """Offsets to fetch next (in order); empty when reading is over."""
        if self.done:
            return []
        if self.total is not None and self.next_offset < self.total:
            end = self.total if self.max_items is None else min(self.total, self.max_items)
            batch: list[int] = []
            offset = self.next_offset
            while offset < end and len(batch) < self.window:
                batch.append(offset)
                offset += self.limit
        else:
            # No total (or the server said has_more past it): the next page's existence is only
            # known from the previous one, so read one page at a time.
            batch = [self.next_offset]
        self.next_offset = batch[-1] + self.limit
        return batch

    def record(self, offset: int, count: int, total: int | None, has_more: bool | None) -> int:
        """Record one page (in offset order); returns how many of its items to deliver."""
        if self.done:
            return 0
        if total is not None:
            self.total = total
        keep = count
        if self.max_items is not None:
            keep = max(0, min(count, self.max_items - self.received))
        self.received += keep
        if (
            count < self.limit
            or has_more is False
            or (self.max_items is not None and self.received >= self.max_items)
            or (self.total is not None and offset + count >= self.total and has_more is not True)
        ):
            self.done = True
        return keep
