"""The README's walkthrough and time-travel example, run as written (bash, curl, python3) against `accord serve` with
its demo, on a port other than 5000: so that the README cannot drift from what Accord does."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ACCORD = str(Path(sys.executable).with_name("accord"))


def shell_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("bash")), reason="needs curl and bash, as the README")
def test_the_walkthrough_and_the_time_travel_example_run_as_written(tmp_path: Path) -> None:
    walkthrough, time_travel = [b for b in shell_blocks() if "$API" in b][:2]
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parents[1])  # The README calls .venv/bin/accord.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")} | {"ACCORD_PORT": str(port)}
    env |= {"COLUMNS": "120"}
    server = subprocess.Popen([ACCORD, "serve"], env=env, cwd=tmp_path, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as ready:
                    if ready.status == 200:
                        break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "accord serve did not start"
            time.sleep(0.3)
        script = "set -u\n" + walkthrough + time_travel
        run = subprocess.run(
            ["bash", "-c", script], check=False, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    out = run.stdout
    assert run.returncode == 0, run.stderr
    assert '"openapi"' in out and "Safeguarding and Looked After Children's Services Action Plan" in out
    for refusal in ('"status": 403', '"status": 422', '"status": 401'):
        assert refusal in out, refusal
    assert '"position":' in out and "Ofsted inspection: sampling overdue health actions" in out
    then, now = re.findall(r"^As at 2011-10-31, as known at .*\n(?:.*\n)*?Summary as at.*$", out, re.MULTILINE)[:2]
    assert "as known at 2011-10-31 23:59:59" in then
    differing = {line.split()[0] for line in set(then.splitlines()) ^ set(now.splitlines()) if line.startswith("  ")}
    assert {"2.2", "6.1"} <= differing, (then, now)
