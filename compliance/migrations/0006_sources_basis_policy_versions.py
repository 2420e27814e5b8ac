"""Source records per list version, a basis for ``supported``, and versioned screening policies.

Rows loaded before this migration get their basis from the note that said which list decided
``supported``; their facts cite no record (``sources`` empty) until the next list load.
"""

from django.db import migrations, models
import django.db.models.deletion


def basis_from_notes(apps, schema_editor):
    Territory = apps.get_model("compliance", "Territory")
    Territory.objects.filter(supported=True).update(basis="current_list")
    Territory.objects.filter(
        supported=True, notes__startswith="supported per older platform list"
    ).update(basis="older_list_only")
    Territory.objects.filter(supported=False).update(basis="not_listed")


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0005_row_level_security_child_lookup"),
    ]

    operations = [
        migrations.CreateModel(
            name="ScreeningPolicyVersion",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("number", models.PositiveIntegerField(unique=True)),
                ("name", models.CharField(max_length=120)),
                ("checksum", models.CharField(db_index=True, max_length=64)),
                ("content", models.JSONField()),
                ("loaded_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"ordering": ["-number"]},
        ),
        migrations.AddField(
            model_name="territorylistversion",
            name="sources",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="territory",
            name="basis",
            field=models.CharField(
                choices=[
                    ("current_list", "On the provider's current list"),
                    ("older_list_only", "Only on the provider's older list"),
                    ("not_listed", "Not listed"),
                ],
                default="not_listed",
                max_length=20,
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="territory",
            name="sources",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(basis_from_notes, migrations.RunPython.noop),
        migrations.AddField(
            model_name="screeningresult",
            name="policy_version",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="compliance.screeningpolicyversion",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="screeningresult",
            name="screening_once",
        ),
        migrations.AddConstraint(
            model_name="screeningresult",
            constraint=models.UniqueConstraint(
                fields=("application", "application_version", "list_version", "policy_version"),
                name="screening_once_per_policy",
                nulls_distinct=False,
            ),
        ),
    ]
