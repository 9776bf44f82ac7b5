# The dispute-opened email and the reminder before the evidence deadline are each sent once
# (issue 12, finding 13): the task that claims one records when.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0006_longer_card_brand"),
    ]

    operations = [
        migrations.AddField(
            model_name="dispute",
            name="opened_email_sent_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="dispute",
            name="reminder_sent_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
