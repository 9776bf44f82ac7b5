"""Re-wrap every vault data key with the newest master key of the key ring."""

from django.core.management.base import BaseCommand

from notifications import signing
from payments import vault
from payments.models.connectors import rewrap_all as rewrap_acquirer_connectors
from payplug.keyring import get_key_ring


class Command(BaseCommand):
    help = (
        "Re-wrap every card data key, webhook signing secret and acquirer credential key with the newest master key "
        "(add the new version to CARD_KEYS first). "
        "Safe to run while the platform serves; safe to interrupt and re-run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size, **options):
        ring = get_key_ring()
        self.stdout.write(f"Key ring versions: {ring.versions}; re-wrapping to version {ring.current_version}.")
        total = vault.rotate_all(batch_size=batch_size, progress=lambda n: self.stdout.write(f"  {n} re-wrapped"))
        left = vault.VaultEntry.objects.exclude(key_version=ring.current_version).count()
        self.stdout.write(self.style.SUCCESS(f"Re-wrapped {total} data key(s); {left} left on older versions."))
        secrets = signing.rotate_all()
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {secrets} webhook/IPN signing secret row(s)."))
        connectors = rewrap_acquirer_connectors()
        self.stdout.write(self.style.SUCCESS(f"Re-wrapped {connectors} acquirer connector credential key(s)."))
