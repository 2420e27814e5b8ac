"""Drop the header lines of list versions loaded before source records that cite a machine path.

Before source records (0006) a version's ``source`` held the territory file's ``# SOURCE``
lines, one of which named an internal document by its path on a developer's machine. That
line was never a public source and must not be shown (the API and the territory page show
``source``); the lines citing public URLs are kept.
"""

import re

from django.db import migrations

# An absolute path not inside a URL: "/a/b" preceded by neither a word character, ":", "/" nor ".".
PATH = re.compile(r"(?<![\w:/.])/(?:[\w.-]+/)+[\w.-]+")


def scrub(apps, schema_editor):
    TerritoryListVersion = apps.get_model("compliance", "TerritoryListVersion")
    for version in TerritoryListVersion.objects.all():
        lines = version.source.splitlines()
        kept = [line for line in lines if not PATH.search(line)]
        if kept != lines:
            version.source = "\n".join(kept)
            version.save(update_fields=["source"])


class Migration(migrations.Migration):
    dependencies = [("compliance", "0006_sources_basis_policy_versions")]

    operations = [migrations.RunPython(scrub, migrations.RunPython.noop)]
