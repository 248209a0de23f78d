"""Fixtures shared by every tier: settings per backend, a bootstrapped system, the Flask client, users."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from api import create_app
from service.bootstrap import System, bootstrap
from service.settings import Settings
from tests.builders import fresh_schema

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def test_postgres_url() -> str:
    return os.environ.get("ACCORD_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test")


test_postgres_url.__test__ = False  # type: ignore[attr-defined]


def with_database(url: str, dbname: str, query: str = "") -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, query, ""))


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh database for this test run, dropped at the end."""
    server = test_postgres_url()
    name = f"accord_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server, name)
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty store on the backend the test is parametrised with: an SQLite file or a fresh schema."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'accord.db'}"
        return
    with fresh_schema(request.getfixturevalue("postgres_database")) as url:
        yield url


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Tokens are checked on every request (no cache), so a revocation from another process shows at once.
    return Settings(database_url=database_url, load_demo=False, token_seconds=0)


@pytest.fixture
def system(settings: Settings) -> Iterator[System]:
    system = bootstrap(settings)
    yield system
    system.close()


@pytest.fixture
def client(system: System) -> Any:
    return create_app(system=system).test_client()


@dataclass
class Users:
    """Tokens for one user of each role, with editors for several agencies."""

    system: System

    def token(self, role: str, agency: str = "lscb") -> str:
        return self.system.app.add_user(name=f"Test {role} {agency}", agency=agency, role=role)[1]

    def headers(self, role: str, agency: str = "lscb") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, agency)}"}


@pytest.fixture
def users(system: System) -> Users:
    return Users(system)
