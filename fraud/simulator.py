"""Synthetic card transactions with fraud, for the default model, the benchmark and the tests.

Modelled on the simulator of the public "Reproducible Machine Learning for Credit Card Fraud
Detection: Practical Handbook" (Le Borgne et al.), chapter 3:

- customers live at a random point of a 100 x 100 grid, with their own mean amount
  (uniform 5..100, standard deviation half of it) and mean number of payments a day (uniform 0..4);
- terminals (our merchants) also sit on the grid; a customer pays at terminals within radius `r`;
- each day a customer makes Poisson(mean) payments, at normally distributed times around noon;
- fraud scenarios, as in the handbook's `add_frauds` (compromises start on every day but the last):
  1. every payment above `amount_threshold` is fraudulent;
  2. each day `compromised_terminals_per_day` terminals are compromised: all their payments in
     the next 28 days are fraudulent;
  3. each day `compromised_customers_per_day` customers have their card details stolen: a third of
     all their payments of the next 14 days (drawn together over that day's victims) are
     fraudulent, with their amount multiplied by 5;
- every fraudulent payment is reported `feedback_delay_days` later (fraud_reported_at).

Beyond the handbook (for the online features that the backtest CSV has no column for), each row
also gets a shopper email, IP country, billing country, card country and device: stable per
customer, but when a stolen card is used (scenario 3) the fraudster's own email, device and,
most of the time, a foreign IP. These columns are only used to train the shipped default model.

Deterministic for a given seed. Vectorised with numpy: about a million rows in a few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from payplug import spreadsheet

DAY = 86400
CSV_HEADER = [
    "id",
    "created_at",
    "card_fingerprint",
    "merchant_id",
    "amount",
    "currency",
    "is_fraud",
    "fraud_reported_at",
]
COUNTRIES = ["FR", "FR", "FR", "FR", "FR", "FR", "BE", "DE", "ES", "IT", "GB", "NL", "CH", "US"]
FOREIGN = ["NG", "RU", "CN", "BR", "US", "RO", "UA", "VN", "ID", "PK"]


@dataclass
class SimulationParameters:
    customers: int = 5000
    terminals: int = 10000
    days: int = 120
    radius: float = 5.0
    start: datetime = datetime(2026, 1, 1, tzinfo=UTC)
    amount_threshold: float = 220.0  # scenario 1; None disables it
    compromised_terminals_per_day: int = 2
    terminal_compromise_days: int = 28
    compromised_customers_per_day: int = 3
    customer_compromise_days: int = 14
    feedback_delay_days: float = 7.0
    seed: int = 0


@dataclass
class Transactions:
    """Column arrays, sorted by time. `time` is seconds since `start`."""

    time: np.ndarray  # float64 seconds since start
    customer: np.ndarray  # int
    terminal: np.ndarray  # int
    amount: np.ndarray  # float64, currency units, 2 decimals
    is_fraud: np.ndarray  # bool
    scenario: np.ndarray  # int8: 0 genuine, 1..3 the fraud scenario
    reported: np.ndarray  # float64 seconds since start, nan when genuine
    # Extra shopper context (only for the online features of the default model).
    card_country: np.ndarray
    billing_country: np.ndarray
    ip_country: np.ndarray
    email: np.ndarray
    device: np.ndarray
    start: datetime

    def __len__(self):
        return len(self.time)


def simulate(params: SimulationParameters | None = None) -> Transactions:
    p = params or SimulationParameters()
    rng = np.random.default_rng(p.seed)

    # Profiles.
    cx, cy = rng.uniform(0, 100, p.customers), rng.uniform(0, 100, p.customers)
    mean_amount = rng.uniform(5, 100, p.customers)
    std_amount = mean_amount / 2
    mean_tx_per_day = rng.uniform(0, 4, p.customers)
    tx_, ty_ = rng.uniform(0, 100, p.terminals), rng.uniform(0, 100, p.terminals)
    # Terminals within the radius of each customer (a grid index keeps this cheap).
    cell = max(p.radius, 1.0)
    grid: dict[tuple[int, int], list[int]] = {}
    for t in range(p.terminals):
        grid.setdefault((int(tx_[t] // cell), int(ty_[t] // cell)), []).append(t)
    available: list[np.ndarray] = []
    for c in range(p.customers):
        gx, gy = int(cx[c] // cell), int(cy[c] // cell)
        near = [t for dx in (-1, 0, 1) for dy in (-1, 0, 1) for t in grid.get((gx + dx, gy + dy), ())]
        near_arr = np.array(near, dtype=np.int64)
        if len(near_arr):
            d2 = (tx_[near_arr] - cx[c]) ** 2 + (ty_[near_arr] - cy[c]) ** 2
            near_arr = near_arr[d2 < p.radius**2]
        available.append(near_arr)
    home = rng.choice(COUNTRIES, p.customers)

    # Genuine transactions: Poisson count per customer and day, times around noon.
    counts = rng.poisson(np.repeat(mean_tx_per_day[None, :], p.days, axis=0))  # days x customers
    day_idx, cust_idx = np.nonzero(counts)
    reps = counts[day_idx, cust_idx]
    day = np.repeat(day_idx, reps)
    customer = np.repeat(cust_idx, reps)
    seconds = np.trunc(rng.normal(DAY / 2, 20000, len(day)))  # int() in the handbook
    keep = (seconds > 0) & (seconds < DAY)
    n_terms = np.array([len(a) for a in available])
    keep &= n_terms[customer] > 0
    day, customer, seconds = day[keep], customer[keep], seconds[keep]
    n = len(day)
    amount = rng.normal(mean_amount[customer], std_amount[customer])
    negative = amount < 0
    amount[negative] = rng.uniform(0, mean_amount[customer[negative]] * 2)
    amount = np.round(amount, 2)
    pick = (rng.random(n) * n_terms[customer]).astype(np.int64)
    terminal = np.array(
        [available[c][i] for c, i in zip(customer.tolist(), pick.tolist(), strict=True)], dtype=np.int64
    )
    time = day * DAY + seconds

    order = np.argsort(time, kind="stable")
    time, day, customer, terminal, amount = time[order], day[order], customer[order], terminal[order], amount[order]
    scenario = np.zeros(n, dtype=np.int8)

    # Scenario 1: large amounts.
    if p.amount_threshold is not None:
        scenario[amount > p.amount_threshold] = 1
    # As in the handbook, the compromises start on each day but the last one of the simulation.
    last_day = int(day.max()) if n else 0
    # Scenario 2: compromised terminals.
    for d in range(last_day):
        for t in rng.choice(p.terminals, p.compromised_terminals_per_day, replace=False):
            hit = (terminal == t) & (day >= d) & (day < d + p.terminal_compromise_days)
            scenario[hit] = 2
    # Scenario 3: compromised customers. Each day's victims are taken together, as in the handbook:
    # a third of all their payments of the next 14 days (drawn at random) get their amount x5.
    stolen = np.zeros(n, dtype=bool)
    cust_order = np.argsort(customer, kind="stable")
    bounds = np.searchsorted(customer[cust_order], np.arange(p.customers + 1))
    for d in range(last_day):
        victims = rng.choice(p.customers, p.compromised_customers_per_day, replace=False)
        rows = np.concatenate([cust_order[bounds[c] : bounds[c + 1]] for c in victims] or [np.empty(0, np.int64)])
        window = rows[(day[rows] >= d) & (day[rows] < d + p.customer_compromise_days)]
        k = len(window) // 3
        if k:
            chosen = rng.choice(window, k, replace=False)
            amount[chosen] = np.round(amount[chosen] * 5, 2)
            scenario[chosen] = 3
            stolen[chosen] = True
    is_fraud = scenario > 0
    delay = p.feedback_delay_days * DAY
    reported = np.where(is_fraud, time + delay, np.nan)

    # Shopper context.
    card_country = home[customer]
    billing_country = card_country.copy()
    ip_country = card_country.copy()
    travelling = rng.random(n) < 0.03
    ip_country[travelling] = rng.choice(COUNTRIES, int(travelling.sum()))
    foreign_fraudster = stolen & (rng.random(n) < 0.6)
    ip_country[foreign_fraudster] = rng.choice(FOREIGN, int(foreign_fraudster.sum()))
    billing_country[stolen & (rng.random(n) < 0.3)] = "GB"
    email = np.array([f"c{c}@example.org" for c in customer.tolist()], dtype=object)
    device = np.array([f"dev{c}" for c in customer.tolist()], dtype=object)
    fraudster = rng.integers(0, 200, n)
    email[stolen] = [f"x{f}@mail.example" for f in fraudster[stolen].tolist()]
    device[stolen] = [f"fdev{f}" for f in fraudster[stolen].tolist()]
    no_ip = rng.random(n) < 0.05
    ip_country = ip_country.astype(object)
    ip_country[no_ip] = None

    return Transactions(
        time=time.astype(np.float64),
        customer=customer,
        terminal=terminal,
        amount=amount,
        is_fraud=is_fraud,
        scenario=scenario,
        reported=reported,
        card_country=card_country.astype(object),
        billing_country=billing_country.astype(object),
        ip_country=ip_country,
        email=email,
        device=device,
        start=p.start,
    )


def iso(start: datetime, seconds: float) -> str:
    return (start + timedelta(seconds=float(seconds))).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_csv(data: Transactions, path, currency: str = "EUR") -> int:
    """The backtest input format of `fraud_backtest` (issue 6, point 5)."""
    start_epoch = data.start.timestamp()
    with open(path, "w", newline="") as handle:
        out = spreadsheet.writer(handle)
        out.writerow(CSV_HEADER)
        for i, (t, c, m, a, f, r) in enumerate(
            zip(
                data.time.tolist(),
                data.customer.tolist(),
                data.terminal.tolist(),
                data.amount.tolist(),
                data.is_fraud.tolist(),
                data.reported.tolist(),
                strict=True,
            )
        ):
            out.writerow(
                [
                    f"tx_{i}",
                    _iso_epoch(start_epoch + t),
                    f"card_{c}",
                    f"m_{m}",
                    f"{a:.2f}",
                    currency,
                    "1" if f else "0",
                    _iso_epoch(start_epoch + r) if f else "",
                ]
            )
    return len(data)


def _iso_epoch(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
