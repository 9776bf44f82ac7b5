"""`manage.py fraud_backtest` on a small simulated CSV: output rows, metrics, and no label leak."""

import csv
import random
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from fraud import simulator

PARAMS = simulator.SimulationParameters(
    customers=400, terminals=300, days=42, compromised_terminals_per_day=1, compromised_customers_per_day=2, seed=3
)
START = PARAMS.start


def day(n):
    return (START + timedelta(days=n)).strftime("%Y-%m-%d")


@pytest.fixture(scope="module")
def data():
    return simulator.simulate(PARAMS)


@pytest.fixture
def input_csv(tmp_path, data):
    path = tmp_path / "input.csv"
    simulator.write_csv(data, path)
    return path


def read(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def run(input_csv, output, capsys, test_from=None, test_until=None):
    call_command(
        "fraud_backtest",
        str(input_csv),
        "--train-from", day(20), "--train-until", day(27),
        "--test-from", test_from or day(34), "--test-until", test_until or day(41),
        "--output", str(output),
    )  # fmt: skip
    return capsys.readouterr().out


def test_it_scores_every_test_row_and_prints_the_metrics(input_csv, tmp_path, capsys):
    output = tmp_path / "scores.csv"

    printed = run(input_csv, output, capsys)

    rows = read(input_csv)
    expected = [r[0] for r in rows[1:] if day(34) <= r[1][:10] < day(41)]
    scores = read(output)
    assert scores[0] == ["id", "score"]
    assert [r[0] for r in scores[1:]] == expected
    assert all(0.0 <= float(r[1]) <= 1.0 for r in scores[1:])
    assert "AUC ROC: 0." in printed
    assert "average precision: 0." in printed
    assert "card precision@100: 0." in printed
    auc = float(printed.split("AUC ROC: ")[1].split()[0])
    assert auc > 0.75  # small data, but far better than chance


def test_an_unsorted_input_is_sorted_on_disk_first(input_csv, tmp_path, capsys):
    sorted_output, shuffled_output = tmp_path / "a.csv", tmp_path / "b.csv"
    rows = read(input_csv)
    body = rows[1:]
    random.Random(1).shuffle(body)
    shuffled = tmp_path / "shuffled.csv"
    with open(shuffled, "w", newline="") as handle:
        csv.writer(handle).writerows([rows[0], *body])

    run(input_csv, sorted_output, capsys)
    run(shuffled, shuffled_output, capsys)

    a, b = dict(read(sorted_output)[1:]), dict(read(shuffled_output)[1:])
    assert a.keys() == b.keys()
    # Payments in the same second may be replayed in another order: scores agree, up to that.
    close = sum(abs(float(a[i]) - float(b[i])) < 0.05 for i in a)
    assert close >= 0.95 * len(a)


def test_labels_reported_after_a_row_do_not_change_its_score(input_csv, tmp_path, capsys):
    """Blank every fraud report made after `cut`: the scores of rows up to `cut` must not move."""
    cut = day(37)
    rows = read(input_csv)
    truncated = tmp_path / "truncated.csv"
    with open(truncated, "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(rows[0])
        for r in rows[1:]:
            if r[7] and r[7] > cut:
                r = [*r[:6], "0", ""]
            out.writerow(r)
    full_scores, cut_scores = tmp_path / "full.csv", tmp_path / "cut.csv"

    run(input_csv, full_scores, capsys)
    run(truncated, cut_scores, capsys)

    created = {r[0]: r[1] for r in rows[1:]}
    full = {r[0]: r[1] for r in read(full_scores)[1:]}
    partial = {r[0]: r[1] for r in read(cut_scores)[1:]}
    before_cut = [i for i in full if created[i] <= cut]
    assert before_cut
    assert all(full[i] == partial[i] for i in before_cut)
    assert any(full[i] != partial[i] for i in full if created[i] > cut)  # the labels do matter later


def test_a_wrong_header_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,when,card\n1,2026-01-01T00:00:00Z,c\n")

    with pytest.raises(CommandError, match="header must be"):
        call_command("fraud_backtest", str(bad), "--train-from", day(0), "--train-until", day(1),
                     "--test-from", day(1), "--test-until", day(2), "--output", str(tmp_path / "o.csv"))  # fmt: skip
