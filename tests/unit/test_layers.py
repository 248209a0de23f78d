"""The domain imports nothing but the standard library and eventsourcing.domain."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "domain"


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


def test_domain_imports_no_infrastructure() -> None:
    allowed_roots = set(sys.stdlib_module_names) | {"__future__", "domain"}
    offenders = {
        f"{path.name}: {module}"
        for path in DOMAIN.glob("*.py")
        for module in imported_modules(path)
        if module.split(".")[0] not in allowed_roots and module != "eventsourcing.domain"
    }
    assert offenders == set()


def test_domain_modules_exist_to_check() -> None:
    assert {"action.py", "plan.py", "user.py"} <= {p.name for p in DOMAIN.glob("*.py")}


def test_no_code_updates_or_deletes_a_stored_event() -> None:
    """Stored events are forever: nothing of ours writes to an events table but by appending."""
    root = DOMAIN.parent
    pattern = re.compile(r"(UPDATE|DELETE\s+FROM|TRUNCATE|DROP\s+TABLE)\s+[\w\".]*events", re.IGNORECASE)
    offenders = [
        f"{path.relative_to(root)}: {match.group(0)}"
        for folder in ("domain", "service", "projections", "workers", "api", "cli")
        for path in (root / folder).rglob("*.py")
        for match in pattern.finditer(path.read_text())
    ]
    assert offenders == []
