"""`manage.py run_payouts`: the daily payout job by hand (settle, pay, write the SEPA files).

`--merchant acct_...` pays one merchant and reports why it cannot be paid (exit 1);
`--confirm` lets the sandbox bank confirm test-mode transfers now.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from merchants.models import Merchant
from payments.money import ledger, payouts


class Command(BaseCommand):
    help = "Settle due money and pay every merchant's available balance (safe to run twice a day)."

    def add_arguments(self, parser):
        parser.add_argument("--merchant", help="public id (acct_...) of one merchant")
        parser.add_argument("--live", action="store_true", help="with --merchant: live mode (default test)")
        parser.add_argument("--confirm", action="store_true", help="confirm test-mode payouts in transit now")

    def handle(self, *args, merchant=None, live=False, confirm=False, **options):
        now = timezone.now()
        if confirm:
            self.stdout.write(f"confirmed {payouts.confirm_sandbox_payouts(now + payouts.SANDBOX_CONFIRM_AFTER)}")
            return
        if merchant:
            found = Merchant.objects.filter(public_id=merchant).first()
            if found is None:
                raise CommandError(f"no merchant {merchant}")
            ledger.settle(found.pk, live, now)
            try:
                payout = payouts.create_payout(found, live, now.date(), now)
            except payouts.PayoutError as exc:
                raise CommandError(exc.message) from None
            if payout is None:
                self.stdout.write("nothing to pay (below the minimum, or already paid today)")
                return
            batch = payouts.write_batch([payout], live, now.date())
            self.stdout.write(f"{payout.public_id} {payout.amount} cents in {batch.public_id if batch else '-'}")
            return
        result = payouts.run_payouts(now=now)
        for merchant_id, reason in result.skipped.items():
            self.stderr.write(f"skipped {merchant_id}: {reason}")
        self.stdout.write(
            f"{len(result.created)} payout(s), {len(result.batches)} batch file(s)"
            + "".join(f"\n  {b.public_id} {b.payout_count} payouts {b.total} cents" for b in result.batches)
        )
