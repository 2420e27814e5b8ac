"""Issue #13 item 3, held by a search: an application's screening columns are written by the
partnerships workflow package only (``partnerships/workflow/screening.py`` records and resets
them, the ``clear_hold`` stamp marks the clearance); every other module reads them or asks
the workflow (compliance calls ``workflow.screening_outcomes_reset`` on a new list).

Benchmark fixtures (``bench/``) and tests build rows directly and are not scanned."""

from __future__ import annotations

import ast
from pathlib import Path

from partnerships.workflow import SCREENING_FIELDS

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = frozenset(SCREENING_FIELDS)
WRITE_METHODS = {"update", "create", "update_or_create", "get_or_create", "bulk_update"}
HOME = ROOT / "partnerships" / "workflow"


def _strings(node: ast.AST) -> set[str]:
    return {
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }


def _writes(path: Path) -> list[str]:
    """Each place in ``path`` that writes a screening column, as ``file:line what``."""
    found = []
    where = path.relative_to(ROOT)
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for t in ast.walk(target):
                    if isinstance(t, ast.Attribute) and t.attr in COLUMNS:
                        found.append(f"{where}:{node.lineno} .{t.attr} =")
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        for keyword in node.keywords:
            if keyword.arg in COLUMNS and (name in WRITE_METHODS or name == "CountryApplication"):
                found.append(f"{where}:{node.lineno} {name}({keyword.arg}=…)")
            if keyword.arg in ("update_fields", "fields") and _strings(keyword.value) & COLUMNS:
                found.append(f"{where}:{node.lineno} {name}({keyword.arg}=…)")
        if name == "setattr" and len(node.args) > 1 and _strings(node.args[1]) & COLUMNS:
            found.append(f"{where}:{node.lineno} setattr")
    return found


def _modules() -> list[Path]:
    return sorted(
        path
        for package in ("portal", "partnerships", "compliance")
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )


def test_only_the_workflow_writes_screening_columns():
    outside = [w for path in _modules() if HOME not in path.parents for w in _writes(path)]
    assert outside == []


def test_the_search_sees_the_workflows_own_writes():
    """Not vacuous: the same search finds the writes in their home."""
    home = [w for path in sorted(HOME.glob("*.py")) for w in _writes(path)]
    assert any("screening.py" in w and ".screening_outcome =" in w for w in home)
    assert any("screening.py" in w and "update(screening_outcome=" in w for w in home)
    assert any("effects.py" in w and ".screening_hold_cleared =" in w for w in home)
