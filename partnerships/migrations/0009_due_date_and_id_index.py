"""The reviewer queue's order, due date then id, as one index (#16, growth): with the due date
alone PostgreSQL read and sorted every row sharing the first page's due date (7 ms at 100,000
applications against 0.5 ms). The due date's own index goes: this one serves it too."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('partnerships', '0008_signed_tenant_lists'),
        ('tenancy', '0006_signed_tenant_lists'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='countryapplication',
            name='stage_due_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name='countryapplication',
            index=models.Index(fields=['stage_due_at', 'id'], name='application_due_idx'),
        ),
    ]
