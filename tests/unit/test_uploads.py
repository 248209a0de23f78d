"""The import page's server-side store of uploaded plan files: private, bound to the uploader, short-lived."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from web.uploads import LIFETIME, Uploads


def test_a_file_is_found_only_by_its_uploader_and_only_for_its_lifetime(tmp_path: Path) -> None:
    store = Uploads(tmp_path / "uploads")
    kept = store.keep("ann", b"plan", "plan.csv", "text/csv")
    assert (tmp_path / "uploads").stat().st_mode & 0o777 == 0o700
    found = store.find(kept.id, "ann")
    assert found is not None and store.data(found) == b"plan"
    assert store.find(kept.id, "bob") is None
    assert store.find("../../etc", "ann") is None
    kept.created -= LIFETIME + 1
    store.save(kept)
    assert store.find(kept.id, "ann") is None


def test_files_older_than_their_lifetime_are_removed_at_the_next_upload(tmp_path: Path) -> None:
    store = Uploads(tmp_path / "uploads")
    old = store.keep("ann", b"old plan", None, None)
    past = time.time() - LIFETIME - 1
    os.utime(tmp_path / "uploads" / old.id, (past, past))
    store.keep("ann", b"new plan", None, None)
    assert not (tmp_path / "uploads" / old.id).exists()


def test_a_folder_others_can_read_is_refused(tmp_path: Path) -> None:
    (tmp_path / "uploads").mkdir(mode=0o777)
    os.chmod(tmp_path / "uploads", 0o777)
    with pytest.raises(RuntimeError, match="private"):
        Uploads(tmp_path / "uploads").keep("ann", b"plan", None, None)


def test_only_one_request_may_claim_a_file_for_importing(tmp_path: Path) -> None:
    store = Uploads(tmp_path / "uploads")
    kept = store.keep("ann", b"plan", None, None)
    assert store.claim(kept) == b"plan"
    assert store.claim(kept) is None  # A second click of "Import the plan".
    assert store.find(kept.id, "ann") is None
    store.release(kept)  # The import was refused: back to the preview.
    assert store.find(kept.id, "ann") is not None
    store.claim(kept)
    store.discard(kept.id)
    assert list((tmp_path / "uploads").iterdir()) == []
