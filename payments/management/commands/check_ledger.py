"""`manage.py check_ledger`: prove the ledger; exit 1 naming the first offender otherwise."""

import time

from django.core.management.base import BaseCommand, CommandError

from payments.money import ledger_check


class Command(BaseCommand):
    help = "Prove that every ledger transaction balances and every payment's lines match it."

    def handle(self, *args, **options):
        started = time.perf_counter()
        report = ledger_check.run()
        elapsed = time.perf_counter() - started
        if not report.ok:
            raise CommandError(f"ledger check failed: {report.problem}")
        self.stdout.write(
            f"ledger OK: {report.transactions} transactions balanced, {report.payments} payments matched, "
            f"{report.accounts} merchant accounts non-negative ({elapsed:.1f} s)"
        )
