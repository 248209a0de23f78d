"""`accord reminders preview|send|status` and `accord users digests` as an operator runs them, without SMTP:
messages land in the outbox folder as .eml files."""

from __future__ import annotations

import os
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path

from service.bootstrap import System
from tests.integration.test_reminders import BEHIND, SECRETS, behind_and_up_to_date
from tests.reminders_helpers import everything_in

ACCORD = str(Path(sys.executable).with_name("accord"))


def accord(system: System, outbox: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ACCORD_DATABASE_URL": system.settings.database_url, "ACCORD_OUTBOX_DIR": str(outbox)}
    env.pop("ACCORD_SMTP_URL", None)
    return subprocess.run([ACCORD, *args], env=env, capture_output=True, text=True, check=False, timeout=120)


def test_preview_shows_send_writes_once_and_status_counts(system: System, tmp_path: Path) -> None:
    world = behind_and_up_to_date(system)
    outbox = tmp_path / "outbox"
    preview = accord(system, outbox, "reminders", "preview")
    assert preview.returncode == 0, preview.stderr
    assert f"3 messages would be sent on {world.today.isoformat()}" in preview.stdout
    assert sorted(line.split()[2] for line in preview.stdout.splitlines()[1:]) == sorted(BEHIND)
    assert not outbox.exists()

    sent = accord(system, outbox, "reminders", "send")
    assert sent.returncode == 0, sent.stderr
    assert "3 new messages recorded; 3 sent" in sent.stdout
    files = sorted(outbox.glob("*.eml"))
    assert len(files) == 3
    messages = [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    assert sorted(m["To"] for m in messages) == sorted(BEHIND)
    assert not [s for m in messages for s in SECRETS if s in everything_in(m)]

    again = accord(system, outbox, "reminders", "send")
    assert "0 new messages recorded; 0 sent" in again.stdout
    assert len(list(outbox.glob("*.eml"))) == 3
    status = accord(system, outbox, "reminders", "status")
    assert (status.returncode, status.stdout.splitlines()[0]) == (
        0,
        "3 sent, 0 waiting, 0 failed (waiting to be retried)",
    )


def test_users_turn_their_weekly_digest_off_and_on(system: System, tmp_path: Path) -> None:
    user_id, _ = system.app.add_user(name="Nurse", agency="health", role="editor", email="n@example.org")
    off = accord(system, tmp_path, "users", "digests", str(user_id), "off")
    assert off.returncode == 0, off.stderr
    assert [u["digests"] for u in system.app.list_users()] == [False]
    accord(system, tmp_path, "users", "digests", str(user_id), "on")
    assert [u["digests"] for u in system.app.list_users()] == [True]
