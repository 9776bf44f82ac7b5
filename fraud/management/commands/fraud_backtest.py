"""python manage.py fraud_backtest INPUT.csv --train-from DATE --train-until DATE --test-from DATE
--test-until DATE --output SCORES.csv"""

from django.core.management.base import BaseCommand, CommandError

from fraud.backtest import BacktestError, parse_time, run_backtest


def _moment(value: str) -> float:
    try:
        return parse_time(value)
    except ValueError:
        raise CommandError(f"not a date: {value!r} (YYYY-MM-DD or ISO-8601)") from None


class Command(BaseCommand):
    help = (
        "Replay INPUT.csv in time order through the online feature code, train on [train-from, train-until) "
        "with the frauds reported before test-from, write id,score for [test-from, test-until), print metrics."
    )

    def add_arguments(self, parser):
        parser.add_argument("input")
        parser.add_argument("--train-from", required=True)
        parser.add_argument("--train-until", required=True)
        parser.add_argument("--test-from", required=True)
        parser.add_argument("--test-until", required=True)
        parser.add_argument("--output", required=True)

    def handle(self, *args, **options):
        def log(message):
            self.stderr.write(message)

        try:
            result = run_backtest(
                options["input"],
                _moment(options["train_from"]),
                _moment(options["train_until"]),
                _moment(options["test_from"]),
                _moment(options["test_until"]),
                options["output"],
                log=log,
            )
        except (BacktestError, FileNotFoundError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"rows replayed: {result.rows} in {result.replay_seconds:.1f} s ({result.replay_rate:,.0f} transactions/s; "
            f"{result.replay_cpu_rate:,.0f} per CPU second)"
        )
        self.stdout.write(f"training rows: {result.train_rows} ({result.train_frauds} frauds known before test-from)")
        self.stdout.write(f"test rows: {result.test_rows} ({result.test_frauds} frauds)")
        self.stdout.write(f"AUC ROC: {result.auc:.4f}")
        self.stdout.write(f"average precision: {result.average_precision:.4f}")
        self.stdout.write(f"card precision@100: {result.card_precision_at_100:.4f}")
        self.stdout.write(f"scores written to {options['output']}")
