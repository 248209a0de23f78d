"""Issue 12's acceptance, as a partnership would meet it: a plan this code was not written against (Hartlepool's
adoption service action plan, 2009: seven statutory requirements and five recommendations) loaded through the
API of a real `accord serve`, its first month's updates (the plan's own "Progress Review" column) and the next
month's posted by the lead agencies, and one more after the committee met. As at the committee's date, every
format's update for every action is the one posted, and the footer's audit head verifies."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from reports.words import long_date
from tests.e2e.test_reports import flat, pdf_pages, read_csv, read_docx, read_html, read_xlsx
from tests.e2e.test_served import ACCORD, Http, add_user, environment, http

__all__ = ["environment", "http"]
# On PostgreSQL, as deployed (tests/e2e/test_reports.py runs the reports on both backends).
pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("database_url", ["postgres"], indirect=True)]
PLAN = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "hartlepool-2009.json").read_text())
AFTER = "Posted after the committee met: a further Panel member resigned; recruitment reopened."


def fetch(http: Http, path: str, token: str) -> tuple[bytes, dict[str, str]]:
    request = urllib.request.Request(http.base + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read(), dict(response.headers)


def test_a_real_plan_as_at_its_committee_shows_every_update_as_posted_in_every_format(
    http: Http, environment: dict[str, str], tmp_path: Path
) -> None:
    today = date.today()
    committee = today - timedelta(days=40)
    first, second = committee - timedelta(days=35), committee - timedelta(days=6)  # Two months' updates.
    coordinator = add_user(environment, tmp_path, "coordinator", "lscb")
    editors = {agency: add_user(environment, tmp_path, "editor", agency) for agency in ("council", "lscb")}
    inspector = add_user(environment, tmp_path, "inspector", "lscb")

    def post(path: str, token: str, body: dict[str, Any]) -> str:
        status, created = http("POST", path, token, body)
        assert status == 201, (path, body, created)
        return str(created["id"])

    plan_id = post("/api/v1/plans", coordinator, PLAN["plan"])
    posted: dict[str, tuple[str, date]] = {}
    for rec in PLAN["recommendations"]:
        body = {k: v for k, v in rec.items() if k != "action"}
        rec_id = post(f"/api/v1/plans/{plan_id}/recommendations", coordinator, body)
        action = rec["action"]
        fields = {k: action[k] for k in ("number", "description", "lead_agency", "lead_person", "due_label")}
        fields |= {"recommendation_id": rec_id, "effective_date": (committee - timedelta(days=90)).isoformat()}
        action_id = post(f"/api/v1/plans/{plan_id}/actions", coordinator, fields)
        editor = editors[action["lead_agency"]]
        for month, on in (("august", first), ("september", second)):
            if action[month]:
                update = {**action[month], "effective_date": on.isoformat()}
                post(f"/api/v1/actions/{action_id}/updates", editor, update)
                posted[action["number"]] = (action[month]["progress"], on)
        if action["number"] == "R2.1":
            late = {"progress": AFTER, "status": "in_progress", "reason": "Panel member resigned", "rag": "amber"}
            post(f"/api/v1/actions/{action_id}/updates", editor, late)
    assert len(posted) == 12

    heads = set()
    for fmt in ("html", "csv", "xlsx", "docx", "pdf"):
        data, headers = fetch(http, f"/api/v1/plans/{plan_id}/report?as_at={committee}&format={fmt}", inspector)
        head = headers["Accord-Audit-Head"]
        heads.add(head)
        if fmt == "pdf":
            pages = pdf_pages(data)
            assert all(f"Audit head {head}" in page for page in pages)
            text = " ".join(pages)
            for update, on in posted.values():
                assert flat(update) in text and f"(effective {long_date(on)})" in text
            assert AFTER not in text
            continue
        shown = {
            "html": read_html,
            "csv": read_csv,
            "xlsx": lambda d: read_xlsx(d)[0],
            "docx": lambda d: read_docx(d, committee)[0],
        }[fmt](data)
        assert {number: (row[3], row[4]) for number, row in shown.items()} == posted, fmt
    assert len(heads) == 1
    verify = [ACCORD, "audit", "verify", "--expect", heads.pop()]
    result = subprocess.run(verify, env=environment, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
