"""Durable NDJSON output with a checkpoint committed after every write. Blocking file I/O: the
runner calls it through ``anyio.to_thread``.

The protocol that makes a kill at any instant (SIGKILL included) safe:

1. append the batch to the output, flush, ``fsync``;
2. write the new checkpoint to a temporary file, ``fsync`` it, ``os.replace`` it over the
   checkpoint (atomic), ``fsync`` the directory.

The checkpoint therefore never claims bytes that are not on disk. Data goes to
``<output>.partial`` and is renamed to ``<output>`` only once complete. On resume the file is
truncated to the checkpoint's byte count, which drops a batch written after the last commit
(a torn line included); the search then resumes from the checkpoint's token, so every event
ends up in the file exactly once. With gzip each batch is its own gzip member: a truncation at
a commit point leaves a valid multi-member gzip file that ``gzip``/``zcat`` read as one stream.
"""

from __future__ import annotations

import contextlib
import gzip as gzip_module
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

from ._plan import ItemState

__all__ = ["DurableOutput", "OutputStateError", "encode_events", "read_checkpoint"]


class OutputStateError(RuntimeError):
    """The output file and its checkpoint disagree in a way a resume cannot repair."""


# One encoder for all events: json.dumps() with non-default arguments builds a new encoder per
# call, which tripled the exporter's CPU per event.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def encode_events(events: Iterable[Mapping[str, Any]], *, gzip: bool) -> bytes:
    """One NDJSON line per event (compact, UTF-8), as one gzip member when ``gzip``."""
    encode = _ENCODER.encode
    data = "".join([encode(event) + "\n" for event in events]).encode("utf-8")
    if gzip and data:
        # mtime=0 keeps the bytes reproducible: the same events give the same member.
        return gzip_module.compress(data, compresslevel=6, mtime=0)
    return data


def checkpoint_path(output: Path) -> Path:
    """Where the checkpoint of ``output`` lives."""
    return output.with_name(output.name + ".checkpoint.json")


def read_checkpoint(path: Path) -> ItemState | None:
    """The state stored at ``path``, or None if there is no checkpoint."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return ItemState.from_json(json.loads(text))
    except ValueError as exc:
        raise OutputStateError(
            f"checkpoint {path} is unreadable ({exc}); delete it and its output to start over"
        ) from None


def write_json_atomic(path: Path, data: Any) -> None:
    """Replace ``path`` with ``data`` as JSON atomically and durably."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, separators=(",", ":"))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable on POSIX; directories cannot be opened on Windows.
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DurableOutput:
    """The output file of one work item and its checkpoint.

    Events are appended to ``<path>.partial``; ``publish()`` renames it to ``path`` once the
    checkpoint says the item is done, so ``path`` only ever holds a complete export and a reader
    of it never sees a torn line. ``open(initial)`` recovers (or starts) the partial file and
    returns the state to carry on from; ``append(data, state)`` makes ``data`` durable and then
    commits ``state``.
    """

    def __init__(self, path: Path, *, checkpoint: Path | None = None) -> None:
        self.path = path
        self.partial = path.with_name(path.name + ".partial")
        self.checkpoint = checkpoint or checkpoint_path(path)
        self._fh: IO[bytes] | None = None

    def open(self, initial: ItemState) -> ItemState:
        """Recover from the checkpoint if there is one, else start from ``initial``.

        Truncates the partial output to the committed byte count (dropping any torn tail).
        Refuses an existing output without a checkpoint: it is not ours to overwrite.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        state = read_checkpoint(self.checkpoint)
        if state is None:
            for existing in (self.path, self.partial):
                if existing.exists() and existing.stat().st_size > 0:
                    raise OutputStateError(
                        f"{existing} exists but has no checkpoint ({self.checkpoint.name}); "
                        "move it away or delete it, the exporter does not overwrite foreign "
                        "files"
                    )
            state = initial
            self.commit(state)
        if state.done:
            self.publish()
            return state
        try:
            size = self.partial.stat().st_size
        except FileNotFoundError:
            size = 0
        if size < state.bytes:
            raise OutputStateError(
                f"{self.partial} holds {size} bytes but its checkpoint says {state.bytes} were "
                "written (was the file replaced or truncated?); delete it and "
                f"{self.checkpoint.name} to export this tenant again"
            )
        self._fh = open(self.partial, "ab")  # noqa: SIM115 - closed by close()
        if size > state.bytes:
            # A batch was written after the last commit (maybe half of it): drop it.
            self._fh.truncate(state.bytes)
            self._fh.flush()
            os.fsync(self._fh.fileno())
        return state

    def append(self, data: bytes, state: ItemState) -> None:
        """Write ``data`` durably, then commit ``state`` (whose ``bytes`` must include it)."""
        if self._fh is None:
            raise RuntimeError("DurableOutput.append() before open()")
        if data:
            self._fh.write(data)
            self._fh.flush()
            os.fsync(self._fh.fileno())
        self.commit(state)

    def commit(self, state: ItemState) -> None:
        """Atomically replace the checkpoint with ``state``."""
        write_json_atomic(self.checkpoint, state.to_json())

    def publish(self) -> None:
        """Move the finished partial file to the output path (idempotent: a rerun after a
        crash between the final commit and this rename completes it)."""
        self.close()
        if self.partial.exists():
            os.replace(self.partial, self.path)
        elif not self.path.exists():
            self.path.touch()  # a window without events is an empty export
        _fsync_dir(self.path.parent)

    def close(self) -> None:
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.close()
            self._fh = None
