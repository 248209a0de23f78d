"""`accord import` as a person runs it: a dry run that shows the mapping and every error, then the import itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from service.settings import Settings
from tests import plan_files

ACCORD = str(Path(sys.executable).with_name("accord"))


def accord(settings: Settings, cwd: Path, *args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ACCORD_DATABASE_URL": settings.database_url}
    env.pop("ACCORD_TOKEN", None)
    if token:
        env["ACCORD_TOKEN"] = token
    return subprocess.run([ACCORD, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_accord_import_dry_run_then_import_a_word_table(
    settings: Settings, users: Any, system: Any, client: Any, tmp_path: Path
) -> None:
    document = tmp_path / "shropshire.docx"
    document.write_bytes(plan_files.shropshire_docx())
    token = users.token("coordinator", "lscb")

    refused = accord(settings, tmp_path, "import", str(document), "--dry-run", token=token)
    assert refused.returncode == 1
    assert "'Who' -> lead_person" in refused.stdout
    assert "error: table 1, row 2, column Who: no lead agency" in refused.stderr
    assert "nothing was written" in refused.stdout

    people = json.dumps(plan_files.shropshire_people())
    dry = accord(
        settings, tmp_path, "import", str(document), "--dry-run", "--lead-agency-by-person", people, token=token
    )
    assert dry.returncode == 0, dry.stderr
    assert "dry run: would import 10 recommendations, 17 actions, 15 updates" in dry.stdout
    assert "checking: [" in dry.stderr  # The progress bar.
    assert system.app.recorder.max_notification_id() == 1  # Only the user: nothing imported.

    done = accord(settings, tmp_path, "import", str(document), "--lead-agency-by-person", people, token=token)
    assert done.returncode == 0, done.stderr
    plan_id = done.stdout.strip().rsplit(" ", 1)[-1]
    headers = {"Authorization": f"Bearer {token}"}
    plan = client.get(f"/api/v1/plans/{plan_id}", headers=headers).json
    assert plan["title"] == "Safeguarding and Looked After Children's Services Action Plan 22 March 2011"
    assert sum(len(r["actions"]) for r in plan["recommendations"]) == 17


def test_accord_import_needs_a_coordinators_token(settings: Settings, users: Any, tmp_path: Path) -> None:
    workbook = tmp_path / "plan.xlsx"
    workbook.write_bytes(plan_files.lscb_xlsx())
    assert "give a coordinator's token" in accord(settings, tmp_path, "import", str(workbook)).stderr
    editor = accord(settings, tmp_path, "import", str(workbook), token=users.token("editor", "health"))
    assert editor.returncode == 2
    assert "only a coordinator may" in editor.stderr
