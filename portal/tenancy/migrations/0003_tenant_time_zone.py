import django.db.models
from django.db import migrations

import portal.tenancy.models

# The demo countries' civil time zones (IANA names; the capital's zone where a country has
# several). Other existing tenants keep "" and get the UTC+14 bound (portal.tenancy.dates).
SEEDED = {
    "JP": "Asia/Tokyo",
    "FR": "Europe/Paris",
    "AE": "Asia/Dubai",
    "NO": "Europe/Oslo",
    "IN": "Asia/Kolkata",
    "BR": "America/Sao_Paulo",
    "AR": "America/Argentina/Buenos_Aires",
    "AU": "Australia/Sydney",
}


def fill(apps, schema_editor):
    Tenant = apps.get_model("tenancy", "Tenant")
    for code, zone in SEEDED.items():
        Tenant.objects.filter(code=code, time_zone="").update(time_zone=zone)


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0002_row_level_security_function")]

    operations = [
        migrations.AddField(
            model_name="tenant",
            name="time_zone",
            field=django.db.models.CharField(
                blank=True,
                default="",
                max_length=64,
                validators=[portal.tenancy.models.validate_time_zone],
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
