"""The data migration that removes machine paths from the source text of old list versions."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from compliance.models import TerritoryListVersion

pytestmark = pytest.mark.django_db

scrub = importlib.import_module(
    "compliance.migrations.0007_scrub_paths_from_legacy_list_sources"
).scrub

LEGACY = "\n".join(
    [
        "Retrieved: 2026-11-28 (all sources below).",
        "SOURCE 3 (groups): https://github.com/seelpeed-debug/export-controls-agent-mcp/blob/x/src/data/country-groups.json",
        "  what: EAR Country Groups parsed from eCFR; cross-checked identical to /work/shared/DOMAIN.md",
        "SOURCE 4 (not-supported list): /work/shared/DOMAIN.md sections 'Supported countries'",
        "SOURCE 5 (codes and names): pycountry (https://pypi.org/project/pycountry/)",
    ]
)


def test_lines_naming_a_machine_path_are_dropped_and_urls_kept():
    version = TerritoryListVersion.objects.create(
        number=1, effective_date="2026-11-28", source=LEGACY, checksum="x"
    )
    scrub(apps, None)
    version.refresh_from_db()
    assert "/work/" not in version.source and "DOMAIN.md" not in version.source
    assert version.source.splitlines() == [
        "Retrieved: 2026-11-28 (all sources below).",
        "SOURCE 3 (groups): https://github.com/seelpeed-debug/export-controls-agent-mcp/blob/x/src/data/country-groups.json",
        "SOURCE 5 (codes and names): pycountry (https://pypi.org/project/pycountry/)",
    ]
