"""`make screenshots`: the main pages of the demo, as people see them, saved as PNGs for the README.

python -m tests.e2e.screenshots docs/screenshots
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from tests.e2e.browser import axe_violations, chromium, served, sign_in


def demo_people(directory: Path) -> dict[str, str]:
    """NAME -> value from the demo's var/demo-tokens.env (emails and passwords of the demo's people)."""
    lines = (directory / "var" / "demo-tokens.env").read_text().splitlines()
    return dict(line.removeprefix("export ").split("=", 1) for line in lines)


def shoot(page: Any, folder: Path, name: str, *, whole: bool = True) -> None:
    violations = axe_violations(page)
    if violations:
        print(f"{name}: accessibility violations: {violations}", file=sys.stderr)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=whole)
    print(f"saved {folder / name}.png ({page.url})")


def main(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as directory, served(Path(directory), demo=True) as (server, _), chromium() as b:
        people = demo_people(Path(directory))
        page = b.new_context(viewport={"width": 1440, "height": 1100}).new_page()
        page.goto(server.base + "/")
        shoot(page, folder, "1-sign-in")
        sign_in(page, server.base, people["HEALTH_EDITOR_EMAIL"], people["HEALTH_EDITOR_PASSWORD"])
        shoot(page, folder, "2-home-health-editor")
        page.get_by_role("link", name="Plans", exact=True).click()
        page.locator("tbody a").first.click()
        board = page.url
        shoot(page, folder, "3-plan-board", whole=False)
        committee = date.today() - timedelta(days=120)
        page.goto(f"{board}?as_at={committee.isoformat()}")
        shoot(page, folder, "4-plan-board-as-at", whole=False)
        page.goto(board)
        page.locator("td.accord-number a").nth(2).click()
        shoot(page, folder, "5-action-timeline")
        page.goto(board + "?agency=health")
        page.locator("td.accord-number a").first.click()
        page.get_by_text("Post an update").click()
        page.get_by_role("button", name="Save update").click()
        shoot(page, folder, "6-update-form-error")
        inspector = b.new_context(viewport={"width": 1280, "height": 900}).new_page()
        sign_in(inspector, server.base, people["INSPECTOR_EMAIL"], people["INSPECTOR_PASSWORD"])
        inspector.goto(board)
        inspector.locator("td.accord-number a").first.click()
        shoot(inspector, folder, "7-inspector-purpose")
        inspector.get_by_label("Why are you reading action histories and past views?").fill(
            "Ofsted ILACS: sampling overdue health actions"
        )
        inspector.get_by_role("button", name="Continue").click()
        inspector.get_by_role("link", name="Access log").click()
        shoot(inspector, folder, "8-access-log")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
