"""A real `accord serve` process and Debian's Chromium driven by playwright, for the browser tests and
`make screenshots`; axe-core (from node_modules) checks each page visited. Needs no pytest."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ACCORD = str(Path(sys.executable).with_name("accord"))
CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PASSWORD = "plum orchard ladder 42"


@dataclass
class Server:
    base: str
    env: dict[str, str]
    cwd: Path

    def api(self, method: str, path: str, token: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + "/api/v1" + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def accord(self, *args: str) -> str:
        """Run the `accord` command against this server's store; its standard output's last line."""
        done = subprocess.run(
            [ACCORD, *args], env=self.env, cwd=self.cwd, capture_output=True, text=True, check=True, timeout=60
        )
        return done.stdout.strip().splitlines()[-1]

    def token(self, role: str, agency: str) -> str:
        return self.accord("users", "add", "--name", f"API {role} {agency}", "--agency", agency, "--role", role)

    def invite(self, name: str, email: str, agency: str, role: str) -> str:
        return self.accord("users", "invite", "--name", name, "--email", email, "--agency", agency, "--role", role)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(directory: Path, demo: bool = False) -> Iterator[tuple[Server, str]]:
    """`accord serve` on a free port over an SQLite store in `directory`; yields it and what it printed first."""
    port = free_port()
    env = {
        **os.environ,
        "ACCORD_DATABASE_URL": f"sqlite:///{directory / 'accord.db'}",
        "ACCORD_PORT": str(port),
        "ACCORD_DEMO": "yes" if demo else "no",
        "ACCORD_SECRET_KEY": "browser-tests-" + "k" * 40,
    }
    env.pop("ACCORD_REDIS_URL", None)
    log = directory / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen([ACCORD, "serve"], env=env, cwd=directory, stdout=out, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", env, directory)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(server.base + "/readyz", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "accord serve did not become ready"
            time.sleep(0.2)
        yield server, log.read_text()
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium (never a browser playwright downloads), one for the whole session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.2 AA violations on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    violations: list[dict[str, Any]] = page.evaluate(
        """async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations
            .map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))""",
        WCAG,
    )
    return violations


def sign_in(page: Any, base: str, email: str, password: str = PASSWORD) -> None:
    page.goto(base + "/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
