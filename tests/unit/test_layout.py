"""The layers of docs/architecture.md hold: each folder imports only the layers below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What each layer must never import (domain/ has its own, stricter test in test_layers.py).
FORBIDDEN = {
    "adapters": {"service", "projections", "api", "cli", "workers"},
    "projections": {"service", "api", "cli", "workers"},
    "service": {"api", "cli", "workers"},
}


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("layer", FORBIDDEN)
def test_a_layer_imports_nothing_above_it(layer: str) -> None:
    offenders = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in (ROOT / layer).rglob("*.py")
        for module in imports(path) & FORBIDDEN[layer]
    }
    assert offenders == set()
