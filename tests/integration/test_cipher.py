"""With ACCORD_CIPHER_KEY, event payloads are encrypted at rest and everything still reads them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eventsourcing.cryptography import AESCipher

from api import create_app
from service.bootstrap import bootstrap
from service.settings import Settings
from tests.builders import plan_with_action
from tests.conftest import BACKENDS

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
SECRET = "Child K's strategy meeting was held at the school"


def post(client: Any, headers: dict[str, str]) -> str:
    _, _, action_id = plan_with_action(client, headers)
    posted = client.post(f"/api/v1/actions/{action_id}/updates", json={"progress": SECRET}, headers=headers)
    assert posted.status_code == 201
    return action_id


def test_update_text_is_not_stored_in_clear_but_reads_back(database_url: str, tmp_path: Path) -> None:
    settings = Settings(database_url=database_url, load_demo=False, cipher_key=AESCipher.create_key(32))
    system = bootstrap(settings)
    try:
        _, token = system.app.add_user(name="C", agency="lscb", role="coordinator")
        headers = {"Authorization": f"Bearer {token}"}
        client = create_app(system=system).test_client()
        action_id = post(client, headers)
        stored = system.app.recorder.select_notifications(start=1, limit=100)
        assert stored and all(b"strategy meeting" not in n.state for n in stored)
        assert client.get(f"/api/v1/actions/{action_id}", headers=headers).json["last_update"]["text"] == SECRET
        assert system.projections.verify("history") == []
    finally:
        system.close()


def test_the_wrong_key_reads_nothing(database_url: str) -> None:
    settings = Settings(database_url=database_url, load_demo=False, cipher_key=AESCipher.create_key(32))
    system = bootstrap(settings)
    system.app.add_user(name="C", agency="lscb", role="coordinator")
    system.close()
    wrong = Settings(database_url=database_url, load_demo=False, cipher_key=AESCipher.create_key(32))
    other = bootstrap(wrong, in_process=False)
    try:
        notification = other.app.recorder.select_notifications(start=1, limit=1)[0]
        with pytest.raises(ValueError, match="Invalid cipher tag"):
            other.app.mapper.to_domain_event(notification)
    finally:
        other.close()
