"""The hash chain's format: how each stored event is chained, in its stream and in the store, to the one before.

Each chain row holds two SHA-256 digests, as hex:

    stream_hash = H(previous stream_hash of the same originator, or 64 zeros,
                    originator_id, originator_version, topic, hex(sha256(state)))
    store_hash  = H(previous store_hash in notification order, or 64 zeros, stream_hash)

where H(p1, ..., pn) is the SHA-256 of the concatenation of each part's UTF-8 bytes, each preceded by its length
as 4 big-endian bytes (so no two different lists of parts hash the same bytes), and originator_id is the
UUID's canonical text (`str(uuid)`, with dashes). The head (the last store_hash and its position) commits to the
whole store up to that position, so a head printed today can be checked against the store later.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.persistence import StoredEvent

ALGORITHM = "sha256"
ZERO = "0" * 64  # The "previous" digest of a stream's first event, and the head of an empty store.
LENGTH_BYTES = 4


def digest(*parts: str) -> str:
    """H(parts): SHA-256 over each part's UTF-8 bytes, each preceded by its length."""
    hashed = hashlib.sha256()
    for part in parts:
        data = part.encode()
        hashed.update(len(data).to_bytes(LENGTH_BYTES, "big"))
        hashed.update(data)
    return hashed.hexdigest()


def stream_hash(previous: str, originator_id: UUID | str, originator_version: int, topic: str, state: bytes) -> str:
    """The digest that chains one stored event to the one before it in the same aggregate's stream."""
    return digest(previous, str(originator_id), str(originator_version), topic, hashlib.sha256(state).hexdigest())


def store_hash(previous: str, stream: str) -> str:
    """The digest that chains one stored event to the one before it in the whole store (notification order)."""
    return digest(previous, stream)


@dataclass(frozen=True)
class ChainEntry:
    """One row of the chain table: what was recorded about the stored event at `notification_id`."""

    notification_id: int
    originator_id: str
    originator_version: int
    stream_hash: str
    store_hash: str

    def row(self) -> tuple[int, str, int, str, str]:
        return (self.notification_id, self.originator_id, self.originator_version, self.stream_hash, self.store_hash)


@dataclass(frozen=True)
class Head:
    """The last store_hash and its position: a digest of the whole store up to that position."""

    position: int
    digest: str
    algorithm: str = ALGORITHM

    def __str__(self) -> str:
        return f"head {self.digest} at position {self.position}"


def stream_hashes(stored_events: Sequence[StoredEvent], last_stream_hashes: Mapping[str, str]) -> list[str]:
    """Each event's stream_hash (in the order given), following the last stream_hash recorded for its originator
    (its canonical text; missing: the stream starts here) and the events before it in the same save."""
    streams = dict(last_stream_hashes)
    hashes = []
    for event in sorted(stored_events, key=lambda e: e.originator_version):
        originator_id = str(event.originator_id)
        streams[originator_id] = stream_hash(
            streams.get(originator_id, ZERO), originator_id, event.originator_version, event.topic, event.state
        )
        hashes.append((event, streams[originator_id]))
    by_event = {(str(e.originator_id), e.originator_version): h for e, h in hashes}
    return [by_event[str(e.originator_id), e.originator_version] for e in stored_events]


def chain_entries(
    stored_events: Sequence[StoredEvent], notification_ids: Sequence[int], streams: Sequence[str], last_store_hash: str
) -> list[ChainEntry]:
    """The chain entries of events just given these ids and stream hashes, after the store's last entry."""
    entries = []
    store = last_store_hash
    for notification_id, event, stream in sorted(
        zip(notification_ids, stored_events, streams, strict=True), key=lambda t: t[0]
    ):
        store = store_hash(store, stream)
        entries.append(ChainEntry(notification_id, str(event.originator_id), event.originator_version, stream, store))
    return entries
