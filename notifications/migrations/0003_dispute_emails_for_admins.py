# Dispute emails (issue 12, finding 13) are a new topic: owners and admins who already chose their
# emails get it too, as those who never chose do (notifications.services.emails.DEFAULT_TOPICS).
# They can turn it off on the "Email notifications" page.

from django.db import migrations

ROLES = ("owner", "admin")


def add_disputes_topic(apps, schema_editor):
    EmailSubscription = apps.get_model("notifications", "EmailSubscription")
    Membership = apps.get_model("merchants", "Membership")
    admins = set(Membership.objects.filter(role__in=ROLES).values_list("user_id", "merchant_id"))
    for subscription in EmailSubscription.objects.all().iterator():
        topics = list(subscription.topics or [])
        if (subscription.user_id, subscription.merchant_id) in admins and "disputes" not in topics:
            subscription.topics = sorted([*topics, "disputes"])
            subscription.save(update_fields=["topics"])


class Migration(migrations.Migration):
    dependencies = [
        ("merchants", "0002_merchant_live_ready"),
        ("notifications", "0002_deliveries"),
    ]

    operations = [migrations.RunPython(add_disputes_topic, migrations.RunPython.noop)]
