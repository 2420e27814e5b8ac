"""The ja, fr, es and ar catalogues are complete, correct and current.

* every entry is translated (all plural forms), none is fuzzy, and each translation keeps the
  placeholders of its source text (%(name)s and %s), so nothing falls back to English or breaks
  when formatted;
* every string that the templates and the Python code mark for translation is in every
  catalogue, so a string added without running ``make messages`` and translating it fails here;
* the compiled catalogue really translates (compiled into a temporary folder with Babel, so the
  test does not depend on ``make`` having compiled locale/*/LC_MESSAGES/django.mo).

No database is needed.
"""

from __future__ import annotations

import ast
import gettext as gettext_module
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.template import Context, Template
from django.test import override_settings
from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "locale"
TEMPLATES = ROOT / "templates"
PYTHON_PACKAGES = ("portal", "partnerships", "compliance")

# Number of plural forms each language's Plural-Forms header must declare.
NPLURALS = {"ja": 1, "fr": 2, "es": 2, "ar": 6}
LANGUAGES = sorted(NPLURALS)

# A printf-style directive as Python's %-formatting reads it; %% is a literal percent sign.
DIRECTIVE = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?(?P<conv>[diouxXeEfFgGcrsa%])"
)


def placeholders(text: str) -> tuple[frozenset[str], int]:
    """The named placeholders of ``text`` and how many positional ones it has (%% excluded)."""
    names: set[str] = set()
    positional = 0
    for m in DIRECTIVE.finditer(text):
        if m["conv"] == "%":
            continue
        if m["name"] is not None:
            names.add(m["name"])
        else:
            positional += 1
    return frozenset(names), positional


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "django.po"


_catalogues: dict[str, Catalog] = {}


def catalogue(lang: str) -> Catalog:
    if lang not in _catalogues:
        with po_path(lang).open("rb") as f:
            _catalogues[lang] = read_po(f, domain="django")
    return _catalogues[lang]


def entries(lang: str) -> list:
    return [m for m in catalogue(lang) if m.id]


def as_tuple(value: str | tuple | list) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, tuple | list) else (value,)


def msgkey(message) -> str:  # type: ignore[no-untyped-def]
    return as_tuple(message.id)[0]


# --- what the sources mark for translation -------------------------------------------------

_STRING = r"""(?:"(?P<{0}dq>(?:[^"\\]|\\.)*)"|'(?P<{0}sq>(?:[^'\\]|\\.)*)')"""
TRANSLATE_TAG = re.compile(
    r"\{%\s*(?:translate|trans)\s+" + _STRING.format("m") + r"(?P<rest>[^%]*?)%\}", re.S
)
CONTEXT_OPTION = re.compile(r"\bcontext\s+" + _STRING.format("c"))
BLOCK_TAG = re.compile(
    r"\{%\s*(?:blocktranslate|blocktrans)\b(?P<opts>[^%]*?)%\}(?P<body>.*?)"
    r"\{%\s*(?:endblocktranslate|endblocktrans)\s*%\}",
    re.S,
)
PLURAL_TAG = re.compile(r"\{%\s*plural\s*%\}")
VARIABLE = re.compile(r"\{\{\s*([\w.]+)\s*\}\}")
UNDERSCORE_CALL = re.compile(r"\b_\(\s*" + _STRING.format("u") + r"\s*\)")


def _literal(m: re.Match, prefix: str) -> str | None:
    value = m[prefix + "dq"] if m[prefix + "dq"] is not None else m[prefix + "sq"]
    return None if value is None else re.sub(r"\\(.)", r"\1", value)


def _block_text(body: str, trimmed: bool) -> str:
    if trimmed:
        body = " ".join(line.strip() for line in body.strip().splitlines() if line.strip())
    body = body.replace("%", "%%")
    return VARIABLE.sub(lambda v: f"%({v[1]})s", body)


def template_strings() -> set[tuple[str | None, str, str | None]]:
    """(context, msgid, msgid_plural) of every literal the templates mark for translation."""
    found: set[tuple[str | None, str, str | None]] = set()
    for path in sorted(TEMPLATES.rglob("*.html")):
        source = path.read_text(encoding="utf-8")
        for m in TRANSLATE_TAG.finditer(source):
            text = _literal(m, "m")
            assert text is not None
            ctx = CONTEXT_OPTION.search(m["rest"])
            # {% translate %} doubles percent signs in its msgid (and restores them on output).
            found.add((_literal(ctx, "c") if ctx else None, text.replace("%", "%%"), None))
        for m in BLOCK_TAG.finditer(source):
            opts = m["opts"]
            trimmed = re.search(r"\btrimmed\b", opts) is not None
            ctx = CONTEXT_OPTION.search(opts)
            parts = PLURAL_TAG.split(m["body"], maxsplit=1)
            singular = _block_text(parts[0], trimmed)
            plural = _block_text(parts[1], trimmed) if len(parts) > 1 else None
            found.add((_literal(ctx, "c") if ctx else None, singular, plural))
        for m in UNDERSCORE_CALL.finditer(source):  # _("...") in filter arguments
            text = _literal(m, "u")
            assert text is not None
            found.add((None, text, None))
    return found


GETTEXT_FUNCS = {
    "_": (0, None, None),
    "gettext": (0, None, None),
    "gettext_lazy": (0, None, None),
    "gettext_noop": (0, None, None),
    "ngettext": (0, 1, None),
    "ngettext_lazy": (0, 1, None),
    "pgettext": (1, None, 0),
    "pgettext_lazy": (1, None, 0),
    "npgettext": (1, 2, 0),
    "npgettext_lazy": (1, 2, 0),
}


def python_strings() -> set[tuple[str | None, str, str | None]]:
    """(context, msgid, msgid_plural) of every literal passed to a gettext function."""
    found: set[tuple[str | None, str, str | None]] = set()
    for package in PYTHON_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = (
                    func.id
                    if isinstance(func, ast.Name)
                    else func.attr
                    if isinstance(func, ast.Attribute)
                    else None
                )
                if name not in GETTEXT_FUNCS:
                    continue

                def const(i: int | None, node: ast.Call = node) -> str | None:
                    if i is None or i >= len(node.args):
                        return None
                    arg = node.args[i]
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        return arg.value
                    return None

                msg_i, plural_i, ctx_i = GETTEXT_FUNCS[name]
                msgid = const(msg_i)
                if msgid is None:  # a variable: nothing to check statically
                    continue
                found.add((const(ctx_i), msgid, const(plural_i)))
    return found


def catalogue_keys(lang: str) -> set[tuple[str | None, str, str | None]]:
    keys = set()
    for m in entries(lang):
        ids = as_tuple(m.id)
        keys.add((m.context, ids[0], ids[1] if len(ids) > 1 else None))
    return keys


# --- the catalogues themselves ---------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_header(lang: str) -> None:
    cat = catalogue(lang)
    assert not cat.fuzzy, f"{lang}: the header entry is marked fuzzy"
    assert cat.num_plurals == NPLURALS[lang], (
        f"{lang}: Plural-Forms declares {cat.num_plurals} forms, expected {NPLURALS[lang]}"
    )
    assert str(cat.locale) == lang, f"{lang}: the header's Language is {cat.locale}"
    assert len(entries(lang)) > 100, f"{lang}: the catalogue is nearly empty"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_entry_translated_and_not_fuzzy(lang: str) -> None:
    problems = []
    for m in entries(lang):
        strings = as_tuple(m.string)
        if m.fuzzy:
            problems.append(f"fuzzy: {msgkey(m)!r}")
        if m.pluralizable and len(strings) != NPLURALS[lang]:
            problems.append(f"{len(strings)} plural forms, not {NPLURALS[lang]}: {msgkey(m)!r}")
        if not all(s.strip() for s in strings):
            problems.append(f"untranslated: {msgkey(m)!r}")
    assert not problems, f"{lang}: " + "\n".join(problems)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_placeholders_match(lang: str) -> None:
    problems = []
    for m in entries(lang):
        sources = as_tuple(m.id)
        names = frozenset().union(*(placeholders(s)[0] for s in sources))
        positional = max(placeholders(s)[1] for s in sources)
        for i, translation_ in enumerate(as_tuple(m.string)):
            got_names, got_positional = placeholders(translation_)
            if got_names != names or got_positional != positional:
                problems.append(
                    f"{msgkey(m)!r} [{i}]: expected {sorted(names)} + {positional} positional, "
                    f"got {sorted(got_names)} + {got_positional} in {translation_!r}"
                )
    assert not problems, f"{lang}:\n" + "\n".join(problems)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_babel_checkers_pass(lang: str) -> None:
    """Babel's own checks (what ``pybabel compile`` runs): plural form count, Python format."""
    errors = [
        f"{msgkey(m)!r}: {'; '.join(str(e) for e in errs)}" for m, errs in catalogue(lang).check()
    ]
    assert not errors, f"{lang}:\n" + "\n".join(errors)


# --- the catalogues are current ------------------------------------------------------------------


def test_template_scan_finds_strings() -> None:
    """Guards the scanner itself: if it found nothing, the test below would pass vacuously."""
    found = template_strings()
    assert (None, "Sign in", None) in found
    assert (None, "Energy mix (%%)", None) in found
    assert any(plural for _ctx, _id, plural in found)
    assert len(found) > 100


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_template_string_is_in_the_catalogue(lang: str) -> None:
    missing = sorted(
        (msgid for ctx, msgid, plural in template_strings() - catalogue_keys(lang)),
        key=str,
    )
    assert not missing, (
        f"{lang}: {len(missing)} template string(s) are not in locale/{lang}/LC_MESSAGES/django.po; "
        "run `make messages` and translate them:\n" + "\n".join(repr(s) for s in missing)
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_python_string_is_in_the_catalogue(lang: str) -> None:
    found = python_strings()
    assert len(found) > 50
    missing = sorted(msgid for ctx, msgid, plural in found - catalogue_keys(lang))
    assert not missing, (
        f"{lang}: {len(missing)} gettext string(s) in the code are not in the catalogue; "
        "run `make messages` and translate them:\n" + "\n".join(repr(s) for s in missing)
    )


# --- the compiled catalogue translates -------------------------------------------------------


@pytest.fixture(scope="module")
def compiled_locale(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The .po files compiled with Babel into a temporary LOCALE_PATHS folder."""
    root = tmp_path_factory.mktemp("locale")
    for lang in LANGUAGES:
        target = root / lang / "LC_MESSAGES"
        target.mkdir(parents=True)
        with (target / "django.mo").open("wb") as f:
            write_mo(f, catalogue(lang))
    return root


@pytest.mark.parametrize("lang", LANGUAGES)
def test_rendering_uses_the_translation(lang: str, compiled_locale: Path) -> None:
    cat = catalogue(lang)
    # Changing LOCALE_PATHS makes Django drop its cached translations (setting_changed signal).
    with override_settings(LOCALE_PATHS=[compiled_locale]), translation.override(lang):
        assert translation.gettext("Sign in") != "Sign in"
        assert translation.gettext("Sign in") == cat["Sign in"].string
        rendered = Template('{% load i18n %}{% translate "Dashboard" %}').render(Context())
        assert rendered == cat["Dashboard"].string != "Dashboard"
        if cat.get("Energy mix (%%)") is not None:
            # {% translate %} doubles % in the msgid and turns %% back into % on output.
            energy = Template('{% load i18n %}{% translate "Energy mix (%)" %}').render(Context())
            assert energy == cat["Energy mix (%%)"].string.replace("%%", "%")
            assert "%%" not in energy

        # Plural entries pick the form the Plural-Forms header selects, e.g. Arabic's six.
        plural_entry = next(m for m in entries(lang) if m.pluralizable)
        singular, plural = plural_entry.id[:2]
        choose = gettext_module.c2py(cat.plural_expr)
        for n in (0, 1, 2, 5, 11, 100, 102):
            expected = as_tuple(plural_entry.string)[choose(n)]
            assert translation.ngettext(singular, plural, n) == expected, (lang, n)
