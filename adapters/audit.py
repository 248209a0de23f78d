"""The audit walk: recompute every stored event's chain digests from the stored bytes alone, and report the first
place where they differ from what was recorded (`accord audit verify`), or the current head (`accord audit head`).

A head reported earlier can be checked against the store later (`--expect POSITION:DIGEST`), even by someone who
trusts neither table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Notification

from adapters.chain_format import ZERO, ChainEntry, Head, store_hash, stream_hash
from adapters.recorders import ChainedRecorder

BATCH = 500  # Events (and chain entries) read per page of the walk.


@dataclass(frozen=True)
class Break:
    """The first place where the stored events no longer match their chain."""

    position: int
    kind: str  # "altered", "removed", "inserted" or "reordered"
    detail: str

    def __str__(self) -> str:
        return f"chain broken at position {self.position} (event {self.kind}): {self.detail}"


@dataclass(frozen=True)
class Audit:
    """What a walk of the whole store found: how many events it checked, the head, and the first break."""

    events: int
    head: Head
    first_break: Break | None


class ChainUnavailableError(RuntimeError):
    """The application's recorder does not keep a hash chain."""


def chained(recorder: ApplicationRecorder) -> ChainedRecorder:
    if not isinstance(recorder, ChainedRecorder):
        raise ChainUnavailableError(
            f"the event store's recorder ({type(recorder).__name__}) keeps no hash chain; "
            "set APPLICATION_RECORDER_TOPIC as Settings.event_store_env does"
        )
    return recorder


def head(recorder: ApplicationRecorder) -> Head:
    """The current head: the last store_hash and its position, or 64 zeros at position 0 for an empty store."""
    last = chained(recorder).last_chain_entry()
    return Head(last.notification_id, last.store_hash) if last else Head(0, ZERO)


def verify_chain(recorder: ApplicationRecorder, expect: Head | None = None) -> Break | None:
    """The first break in the chain, or None when every stored event matches it (and the `expect`ed head)."""
    return audit(recorder, expect).first_break


def audit(recorder: ApplicationRecorder, expect: Head | None = None, batch: int = BATCH) -> Audit:
    """Walk every stored event and chain entry in notification order, recomputing both digests from stored bytes.

    `expect`, a head reported earlier, must still be the store_hash recomputed at its position.
    """
    chain = chained(recorder)
    # Read the highest event id before the chain's head: an event and its entry commit together, so anything
    # up to the larger of the two is complete, and an event appended without an entry is still seen.
    last = chain.last_chain_entry()
    stop = max(recorder.max_notification_id() or 0, last.notification_id if last else 0)
    events = paged(lambda gt: recorder.select_notifications(gt, batch, stop, inclusive_of_start=False))
    entries = paged(lambda gt: chain.select_chain(gt, stop, batch))
    if expect is not None and expect.position == 0:
        if expect.digest != ZERO:
            return Audit(0, Head(0, ZERO), Break(0, "altered", "an empty store's head is 64 zeros"))
        expect = None
    walk = Walk(expect)
    event, entry = next(events, None), next(entries, None)
    while event is not None or entry is not None:
        found: Break | None
        if event is not None and (entry is None or event.id < entry.notification_id):
            found = Break(event.id, "inserted", f"the stored {describe(event)} has no chain entry")
            event = next(events, None)
        elif entry is not None and (event is None or entry.notification_id < event.id):
            recorded = name(entry.originator_id, entry.originator_version)
            found = Break(
                entry.notification_id, "removed", f"the chain records {recorded} here, but no stored event is there"
            )
            entry = next(entries, None)
        else:
            assert event is not None and entry is not None
            found = walk.step(event, entry) or walk.check_expected()
            event, entry = next(events, None), next(entries, None)
        if found is not None:
            return Audit(walk.count, walk.head, found)
    if expect is not None and expect.position > walk.head.position:
        detail = f"the store ends at position {walk.head.position}, before the expected head's {expect.position}"
        return Audit(walk.count, walk.head, Break(expect.position, "removed", detail))
    return Audit(walk.count, walk.head, None)


class Walk:
    """The state of a walk: the last recomputed store_hash, and the last stream_hash and version per originator."""

    def __init__(self, expect: Head | None) -> None:
        self.expect = expect
        self.head = Head(0, ZERO)
        self.streams: dict[str, tuple[int, str]] = {}
        self.count = 0

    def step(self, event: Notification, entry: ChainEntry) -> Break | None:
        originator_id = str(event.originator_id)
        position = event.id
        if (entry.originator_id, entry.originator_version) != (originator_id, event.originator_version):
            return Break(
                position,
                "reordered",
                f"position {position} holds {describe(event)}, but the chain records "
                f"{name(entry.originator_id, entry.originator_version)} there (moved or replaced)",
            )
        last_version, last_stream = self.streams.get(originator_id, (0, ZERO))
        if event.originator_version != last_version + 1:
            return Break(
                position,
                "removed",
                f"{describe(event)} follows version {last_version} of its stream "
                "(an event before it was removed or reordered)",
            )
        stream = stream_hash(last_stream, originator_id, event.originator_version, event.topic, event.state)
        if stream != entry.stream_hash:
            return Break(position, "altered", f"the stored {describe(event)} does not match its recorded hash")
        store = store_hash(self.head.digest, stream)
        if store != entry.store_hash:
            return Break(
                position,
                "reordered",
                "the store hash does not follow from the entries before it "
                "(an event before it was removed or reordered, or the chain was rewritten)",
            )
        self.streams[originator_id] = (event.originator_version, stream)
        self.head = Head(position, store)
        self.count += 1
        return None

    def check_expected(self) -> Break | None:
        expect = self.expect
        if expect is None or self.head.position < expect.position:
            return None
        self.expect = None
        if self.head.position > expect.position:
            return Break(
                expect.position, "removed", f"no stored event at the expected head's position {expect.position}"
            )
        if self.head.digest != expect.digest:
            return Break(
                expect.position,
                "altered",
                f"the store hash here is {self.head.digest}, not the expected head {expect.digest} "
                "(the store up to here was changed since that head was reported)",
            )
        return None


def paged(fetch: Callable[[int], Sequence[Any]]) -> Iterator[Any]:
    """Every item from pages fetched after the last item's id (notification id for either kind of item)."""
    gt = 0
    while True:
        page = fetch(gt)
        if not page:
            return
        yield from page
        last = page[-1]
        gt = last.id if isinstance(last, Notification) else last.notification_id


def name(originator_id: object, version: int) -> str:
    return f"version {version} of {originator_id}"


def describe(event: Notification) -> str:
    return f"event {name(event.originator_id, event.originator_version)} ({event.topic.rpartition('.')[2]})"
