"""The domain imports nothing but the standard library and eventsourcing.domain."""

from __future__ import annotations

import ast
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
