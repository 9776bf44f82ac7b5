"""Give the demo merchant (`manage.py seed_demo`) 30 days of sample data in test mode (fraud.demo_data)."""

from django.core.management.base import BaseCommand, CommandError

from fraud import demo_data
from merchants.management.commands.seed_demo import demo_login, demo_slug
from merchants.models import Membership


class Command(BaseCommand):
    help = (
        "Give a demo merchant made by seed_demo 30 days of test-mode sample data in every state, through the "
        "real services. Does nothing when the merchant has sample data already."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", default="demo", help="the demo merchant's name, as given to seed_demo")

    def handle(self, *args, name, **options):
        email = demo_login(demo_slug(name))
        membership = (
            Membership.objects.filter(user__email=email, role=Membership.Role.OWNER).select_related("merchant").first()
        )
        if membership is None:
            raise CommandError(f"No demo merchant '{name}': run `manage.py seed_demo --name \"{name}\"` first.")
        merchant = membership.merchant
        result = demo_data.seed(merchant)
        if not result.created:
            self.stdout.write(f"Demo merchant '{merchant.name}' already has its sample data (test mode).")
            return
        counts = ", ".join(f"{count} {label}" for label, count in result.counts.items())
        self.stdout.write(
            self.style.SUCCESS(f"Sample data for '{merchant.name}' (test mode, last {demo_data.DAYS} days): {counts}.")
        )
