"""Deliverable 1 of issue #10, held by a search: no view turns request data into a number or a
date by hand (``int()``, ``float()``, ``Decimal()``, ``fromisoformat``, ``isdigit()`` then
``int()``): request values go through portal.parse, a form or a serializer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VIEW_MODULES = sorted(
    path
    for package in ("portal", "partnerships", "compliance")
    for path in (ROOT / package).rglob("*.py")
    if path.name in ("views.py", "api.py", "forms.py")
    or path.parent.name == "views"  # a views package (partnerships/views/)
    or path.name.endswith(("_views.py", "_api.py"))
)
CONVERTERS = {"int", "float", "Decimal"}
METHODS = {"fromisoformat", "isdigit", "isdecimal", "isnumeric"}
# Names that carry what a client sent.
REQUEST_NAMES = {
    "request",
    "POST",
    "GET",
    "query_params",
    "data",
    "kwargs",
    "post",
    "posted",
    "FILES",
}


def _mentions_request(node: ast.AST) -> bool:
    return any(
        (isinstance(n, ast.Name) and n.id in REQUEST_NAMES)
        or (isinstance(n, ast.Attribute) and n.attr in REQUEST_NAMES)
        for n in ast.walk(node)
    )


def _offences(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in CONVERTERS:
            if any(_mentions_request(arg) for arg in node.args):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {func.id}()")
        elif (
            isinstance(func, ast.Attribute)
            and func.attr in METHODS
            and (_mentions_request(func.value) or any(_mentions_request(a) for a in node.args))
        ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} .{func.attr}()")
    return found


def test_there_are_view_modules_to_search():
    assert len(VIEW_MODULES) >= 8, VIEW_MODULES


@pytest.mark.parametrize("path", VIEW_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_bare_parsing_of_request_data(path):
    assert _offences(path) == []


def test_the_search_finds_what_it_looks_for(tmp_path):
    bad = tmp_path / "views.py"
    bad.write_text(
        "def v(request):\n"
        "    a = int(request.GET.get('after'))\n"
        "    b = request.POST.get('x', '').isdigit()\n"
        "    return date.fromisoformat(request.GET['d'])\n"
    )
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        assert len(_offences(bad)) == 3
    finally:
        ROOT = saved
