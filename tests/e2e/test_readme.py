"""The README's walkthrough, time-travel, reminders and import examples, run as written (bash, curl, python3) against
`accord serve` with its demo, on a port other than 5000: so that the README cannot drift from what Accord does."""

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


def shell_blocks(section: str) -> list[str]:
    """The shell blocks under the README's `## <section>` heading, in order."""
    text = (ROOT / "README.md").read_text()
    body = re.search(rf"^## {re.escape(section)}\n(.*?)(?=^## |\Z)", text, re.DOTALL | re.MULTILINE)
    assert body, section
    return re.findall(r"```sh\n(.*?)```", body[1], re.DOTALL)


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("bash")), reason="needs curl and bash, as the README")
def test_the_walkthrough_time_travel_reminders_and_import_examples_run_as_written(tmp_path: Path) -> None:
    (walkthrough,) = shell_blocks("A walk through the demo")
    (time_travel,) = shell_blocks("Time travel")
    (reminders,) = shell_blocks("Meetings, reminders and digests")
    from_template, from_word = shell_blocks("Importing a plan")
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parents[1])  # The README calls .venv/bin/accord.
    (tmp_path / "docs").symlink_to(ROOT / "docs")  # And imports docs/examples/shropshire-2011.docx.
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
        script = "set -u\n" + walkthrough + time_travel + reminders + from_template + from_word
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
    # The reminders example: after the first board, every agency leading open actions is behind for the next.
    reminded = re.findall(r"^  reminder to (\S+) \((\w+)\)", out, re.MULTILINE)
    assert reminded == [(f"{a}.editor@example.org", a) for a in ("council", "education", "health")], out
    digests = len(re.findall(r"^  digest to ", out, re.MULTILINE))  # Eighteen days from today may be a Monday.
    sent = len(reminded) + digests
    assert f"{sent} new messages recorded; {sent} sent as .eml files in var/outbox/" in out
    assert len(list((tmp_path / "var" / "outbox").glob("*.eml"))) == sent
    assert "0 new messages recorded; 0 sent" in out
    # Importing: the blank template has no actions yet (422); the Word table imports, dry run then for real.
    assert "the file has a header row but no actions under it" in out
    assert "dry run: would import 10 recommendations, 17 actions, 15 updates; nothing was written" in out
    assert re.search(r"^imported 10 recommendations, 17 actions, 15 updates as plan ", out, re.MULTILINE)
    assert re.search(r"^2 +\S+ +council +Shropshire's plan, from Word$", out, re.MULTILINE), out


def test_the_configuration_table_lists_every_accord_variable_the_code_reads() -> None:
    text = (ROOT / "README.md").read_text()
    table = re.search(r"^## Configuration\n(.*?)^## ", text, re.DOTALL | re.MULTILINE)
    assert table
    lines = table[1].splitlines()
    marked = [n for n, line in enumerate(lines) if line.startswith("|")]
    rows = lines[marked[0] : marked[-1] + 1]
    assert all(row.startswith("|") for row in rows)  # One unbroken table: a blank line would split it.
    listed = set(re.findall(r"`(ACCORD_[A-Z_]+)`", "\n".join(rows)))
    code = "\n".join(p.read_text() for d in ("api", "cli", "service", "workers") for p in (ROOT / d).rglob("*.py"))
    read = set(re.findall(r"[\"'](ACCORD_[A-Z_]+)[\"']", code))
    assert read <= listed, read - listed
