"""Merchant rules: a small, readable expression language, parsed safely (no eval).

    block if score >= 90
    review if card_country != ip_country and amount > 200
    allow if card_count_30d >= 10 and score < 50
    review if ip_country in ("NG", "RU") or amount > 3 * card_mean_30d

Grammar (tokenizer + recursive descent):

    rule       := ACTION "if" expr
    ACTION     := "block" | "review" | "allow"
    expr       := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | comparison
    comparison := sum [(">" | ">=" | "<" | "<=" | "==" | "!=") sum | ["not"] "in" list]
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/") unary)*
    unary      := "-" unary | atom
    atom       := NUMBER | STRING | NAME | "true" | "false" | "(" expr ")"
    list       := "(" literal ("," literal)* ")"

Names are the features of fraud.features plus the payment context (score, amount, countries...).
Amounts are in euros, as the dashboard shows them: `amount > 60` matches payments above €60.00
(`amount`, `card_mean_*` and `merchant_mean_30d` are euros; ratios and z-scores have no unit).
A comparison of a name with a number that no payment can satisfy (`amount > 25000` above the
platform's maximum, `score > 100`, `hour >= 24`, a count below 0) is reported by `never_true`, so
that the dashboard refuses such a rule when it is saved and flags one saved earlier.
A value may be unknown (no IP, first payment of a card...): arithmetic on it stays unknown and
a comparison with it is false, so `card_country != ip_country` does not fire without an IP.
Errors name the position (1-based column) and the offending token or name.
"""

from __future__ import annotations

import difflib
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from fraud.features import FEATURE_NAMES
from payments import amounts

ACTIONS = ("block", "review", "allow")
NUMBER, STRING, BOOLEAN = "number", "string", "boolean"

# Names a rule may use, with their type; the features are all numbers.
CONTEXT_NAMES: dict[str, str] = {
    "score": NUMBER,
    "amount": NUMBER,
    "currency": STRING,
    "card_country": STRING,
    "ip_country": STRING,
    "billing_country": STRING,
    "card_brand": STRING,
    "is_3ds": BOOLEAN,
    "is_deferred": BOOLEAN,
    "source": STRING,
}
NAMES: dict[str, str] = {**dict.fromkeys(FEATURE_NAMES, NUMBER), **CONTEXT_NAMES}
KEYWORDS = {"if", "and", "or", "not", "in", "true", "false", *ACTIONS}

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<string>"[^"\n]*"|'[^'\n]*')
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>>=|<=|==|!=|[<>+\-*/(),])
    """,
    re.VERBOSE,
)
MAX_LENGTH = 500
MAX_DEPTH = 30


class RuleError(ValueError):
    """A rule that does not parse or type-check; `position` is the 1-based column."""

    def __init__(self, message: str, position: int):
        super().__init__(message)
        self.message = message
        self.position = position

    def __str__(self):
        return _("%(message)s (at position %(position)d)") % {"message": self.message, "position": self.position}


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, name, op, end
    text: str
    position: int  # 1-based column


def tokenize(source: str) -> list[Token]:
    if len(source) > MAX_LENGTH:
        raise RuleError(_("a rule is at most %(max)d characters long") % {"max": MAX_LENGTH}, MAX_LENGTH + 1)
    tokens, i = [], 0
    while i < len(source):
        match = _TOKEN.match(source, i)
        if match is None:
            if source[i] in "\"'":
                raise RuleError(_("unterminated string"), i + 1)
            if source[i] == "=":
                raise RuleError(_("unexpected '=': compare with '=='"), i + 1)
            raise RuleError(_("unexpected character %(char)r") % {"char": source[i]}, i + 1)
        kind = match.lastgroup
        if kind != "space":
            tokens.append(Token(kind, match.group(), i + 1))
        i = match.end()
    tokens.append(Token("end", "", len(source) + 1))
    return tokens


# --- compiled expressions: each node is (type, evaluate(context) -> value) -------------------------

Evaluate = Callable[[dict], object]


@dataclass(frozen=True)
class Comparison:
    """`name op number` as written in a rule (the number on either side), for `never_true`."""

    name: str
    op: str  # with the name on the left: `25000 < amount` is kept as `amount > 25000`
    value: float
    position: int  # of the operator


@dataclass(frozen=True)
class Rule:
    source: str
    action: str
    evaluate: Evaluate
    names: frozenset[str]
    comparisons: tuple[Comparison, ...] = ()

    def matches(self, context: dict) -> bool:
        return self.evaluate(context) is True


_COMPARE = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq,
            "!=": operator.ne}  # fmt: skip
_FLIPPED = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "==": "==", "!=": "!="}
_ARITHMETIC = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


def _arithmetic(op, left: Evaluate, right: Evaluate) -> Evaluate:
    def run(context):
        a, b = left(context), right(context)
        if a is None or b is None:
            return None
        try:
            return op(a, b)
        except ZeroDivisionError:
            return None

    return run


def _compare(op, left: Evaluate, right: Evaluate) -> Evaluate:
    def run(context):
        a, b = left(context), right(context)
        if a is None or b is None:
            return False
        return op(a, b)

    return run


class _Parser:
    def __init__(self, source: str):
        self.source = source
        self.tokens = tokenize(source)
        self.i = 0
        self.depth = 0
        self.names: set[str] = set()
        self.comparisons: list[Comparison] = []

    @property
    def current(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def at(self, *texts: str) -> bool:
        token = self.current
        return token.kind in ("op", "name") and token.text in texts

    def expect(self, text: str, what: str) -> Token:
        if not self.at(text):
            self.fail(_("expected %(what)s") % {"what": what})
        return self.advance()

    def fail(self, message: str, token: Token | None = None):
        token = token or self.current
        found = _("end of rule") if token.kind == "end" else repr(token.text)
        raise RuleError(_("%(message)s, found %(found)s") % {"message": message, "found": found}, token.position)

    # rule := ACTION "if" expr
    def rule(self) -> Rule:
        head = self.current
        if head.kind != "name" or head.text not in ACTIONS:
            self.fail(_("a rule starts with block, review or allow"))
        self.advance()
        self.expect("if", "'if' after the action")
        kind, evaluate = self.expression()
        if self.current.kind != "end":
            self.fail(_("expected 'and', 'or' or the end of the rule"))
        if kind != BOOLEAN:
            raise RuleError(_("the condition must be true or false (a comparison), not a %(type)s") % {"type": kind},
                            self.tokens[2].position)  # fmt: skip
        return Rule(self.source, head.text, evaluate, frozenset(self.names), tuple(self.comparisons))

    def nested(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(_("the rule is nested too deeply"))

    def expression(self):
        self.nested()
        kind, left = self.conjunction()
        while self.at("or"):
            token = self.advance()
            right_kind, right = self.conjunction()
            self.require_boolean(kind, token)
            self.require_boolean(right_kind, token)
            left = (lambda a, b: lambda c: a(c) is True or b(c) is True)(left, right)
            kind = BOOLEAN
        self.depth -= 1
        return kind, left

    def conjunction(self):
        kind, left = self.negation()
        while self.at("and"):
            token = self.advance()
            right_kind, right = self.negation()
            self.require_boolean(kind, token)
            self.require_boolean(right_kind, token)
            left = (lambda a, b: lambda c: a(c) is True and b(c) is True)(left, right)
            kind = BOOLEAN
        return kind, left

    def negation(self):
        if self.at("not"):
            token = self.advance()
            self.nested()
            kind, inner = self.negation()
            self.depth -= 1
            self.require_boolean(kind, token)
            return BOOLEAN, (lambda a: lambda c: a(c) is not True)(inner)
        return self.comparison()

    def comparison(self):
        start = self.i
        kind, left = self.sum()
        token = self.current
        if token.kind == "op" and token.text in _COMPARE:
            middle = self.i
            self.advance()
            right_kind, right = self.sum()
            self.note_comparison(self.tokens[start:middle], token, self.tokens[middle + 1 : self.i])
            if token.text in ("==", "!="):
                if kind != right_kind:
                    self.fail(_("cannot compare a %(left)s with a %(right)s") % {"left": kind, "right": right_kind},
                              token)  # fmt: skip
            elif kind != NUMBER or right_kind != NUMBER:
                self.fail(_("'%(op)s' compares numbers") % {"op": token.text}, token)
            return BOOLEAN, _compare(_COMPARE[token.text], left, right)
        negate = False
        if self.at("not") and self.tokens[self.i + 1].text == "in":
            self.advance()
            negate = True
        if self.at("in"):
            self.advance()
            values = self.literal_list(kind)
            inside = (lambda a, v: lambda c: (x := a(c)) is not None and x in v)(left, values)
            if negate:
                inside = (lambda a, v: lambda c: (x := a(c)) is not None and x not in v)(left, values)
            return BOOLEAN, inside
        return kind, left

    def note_comparison(self, left: list[Token], op: Token, right: list[Token]) -> None:
        """Remember `name op number` (or `number op name`): a bare name against a bare number."""

        def number(tokens):
            if len(tokens) == 1 and tokens[0].kind == "number":
                return float(tokens[0].text)
            if len(tokens) == 2 and tokens[0].text == "-" and tokens[1].kind == "number":
                return -float(tokens[1].text)
            return None

        def name(tokens):
            return tokens[0].text if len(tokens) == 1 and tokens[0].kind == "name" and tokens[0].text in NAMES else None

        if name(left) and number(right) is not None:
            self.comparisons.append(Comparison(name(left), op.text, number(right), op.position))
        elif number(left) is not None and name(right):
            self.comparisons.append(Comparison(name(right), _FLIPPED[op.text], number(left), op.position))

    def literal_list(self, kind):
        self.expect("(", "'(' to open the list")
        values = []
        while True:
            token = self.advance()
            if token.kind == "number" and kind == NUMBER:
                values.append(float(token.text))
            elif token.kind == "string" and kind == STRING:
                values.append(token.text[1:-1])
            else:
                self.fail(_("expected a %(type)s in the list") % {"type": kind}, token)
            if self.at(")"):
                self.advance()
                return frozenset(values)
            self.expect(",", "',' or ')'")

    def sum(self):
        kind, left = self.product()
        while self.at("+", "-"):
            token = self.advance()
            right_kind, right = self.product()
            self.require_number(kind, token)
            self.require_number(right_kind, token)
            left = _arithmetic(_ARITHMETIC[token.text], left, right)
        return kind, left

    def product(self):
        kind, left = self.unary()
        while self.at("*", "/"):
            token = self.advance()
            right_kind, right = self.unary()
            self.require_number(kind, token)
            self.require_number(right_kind, token)
            left = _arithmetic(_ARITHMETIC[token.text], left, right)
        return kind, left

    def unary(self):
        if self.at("-"):
            token = self.advance()
            kind, inner = self.unary()
            self.require_number(kind, token)
            return NUMBER, (lambda a: lambda c: None if (x := a(c)) is None else -x)(inner)
        return self.atom()

    def atom(self):
        token = self.advance()
        if token.kind == "number":
            value = float(token.text)
            return NUMBER, lambda c: value
        if token.kind == "string":
            text = token.text[1:-1]
            return STRING, lambda c: text
        if token.kind == "name":
            if token.text in ("true", "false"):
                value = token.text == "true"
                return BOOLEAN, lambda c: value
            if token.text in KEYWORDS:
                self.fail(_("expected a value"), token)
            if token.text not in NAMES:
                close = difflib.get_close_matches(token.text, NAMES, n=1)
                hint = _(" (did you mean %(name)s?)") % {"name": close[0]} if close else ""
                raise RuleError(_("unknown name %(name)r%(hint)s") % {"name": token.text, "hint": hint}, token.position)
            self.names.add(token.text)
            name = token.text
            return NAMES[name], lambda c: c.get(name)
        if token.kind == "op" and token.text == "(":
            kind, inner = self.expression()
            self.expect(")", "')'")
            return kind, inner
        self.fail(_("expected a value"), token)

    def require_boolean(self, kind, token):
        if kind != BOOLEAN:
            self.fail(_("'%(op)s' joins conditions (comparisons), not a %(type)s") % {"op": token.text, "type": kind},
                      token)  # fmt: skip

    def require_number(self, kind, token):
        if kind != NUMBER:
            self.fail(_("'%(op)s' needs numbers, not a %(type)s") % {"op": token.text, "type": kind}, token)


def parse(source: str) -> Rule:
    """Parse and type-check one rule. Raises RuleError with the position of the problem."""
    source = source.strip()
    if not source:
        raise RuleError(_("the rule is empty"), 1)
    return _Parser(source).rule()


# --- thresholds that can never match -------------------------------------------------------------

_EUROS = ("amount", "card_mean_1d", "card_mean_7d", "card_mean_30d", "merchant_mean_30d")
# Flags, and the shares that are a part of a whole (frauds among the same payments); the other
# rates (fraud reports over recent payments) can exceed 1.
_ZERO_ONE = ("is_night", "is_weekend", "card_first_use_at_merchant", "card_ip_country_mismatch",
             "card_billing_country_mismatch", "ip_billing_country_mismatch", "card_fraud_share_30d",
             "card_mature_fraud_rate_7d", "merchant_mature_fraud_rate_1d",
             "merchant_mature_fraud_rate_7d")  # fmt: skip


def value_range(name: str) -> tuple[float | None, float | None]:
    """The values a number can take (None: no bound), from what fraud.features computes."""
    if name == "score":
        return 0.0, 100.0
    if name in _EUROS:  # a payment's amount, or a mean of amounts, in euros
        return amounts.MIN_AMOUNT / 100, amounts.MAX_AMOUNT / 100
    if name == "hour":
        return 0.0, 23.0
    if name in _ZERO_ONE:
        return 0.0, 1.0
    if "zscore" in name or NAMES.get(name) != NUMBER:
        return None, None
    return 0.0, None  # counts, ratios, days and hours since: never negative


def _shown(name: str, value: float) -> str:
    if name in _EUROS:
        return amounts.format_money(round(value * 100), "EUR")
    return f"{value:g}"


def _never(comparison: Comparison) -> str | None:
    low, high = value_range(comparison.name)
    op, value, name = comparison.op, comparison.value, comparison.name
    too_high = high is not None and ((op == ">" and value >= high) or (op in (">=", "==") and value > high))
    too_low = low is not None and ((op == "<" and value <= low) or (op in ("<=", "==") and value < low))
    if not (too_high or too_low):
        return None
    if name in _EUROS and too_high:
        why = _("a payment is at most %(max)s (amounts are in euros)") % {"max": _shown(name, high)}
    elif name in _EUROS:
        why = _("a payment is at least %(min)s (amounts are in euros)") % {"min": _shown(name, low)}
    elif name == "score":
        why = _("the score goes from 0 to 100")
    elif low is not None and high is not None:
        why = _("%(name)s is always between %(low)s and %(high)s") % {
            "name": name,
            "low": _shown(name, low),
            "high": _shown(name, high),
        }
    else:
        why = _("%(name)s is never below %(low)s") % {"name": name, "low": _shown(name, low)}
    return _("'%(name)s %(op)s %(value)s' can never be true: %(why)s") % {
        "name": name,
        "op": op,
        "value": f"{value:g}",
        "why": why,
    }


def never_true(rule: Rule) -> list[RuleError]:
    """The comparisons of `rule` that no payment can satisfy, each with the reason and position."""
    problems = []
    for comparison in rule.comparisons:
        message = _never(comparison)
        if message:
            problems.append(RuleError(message, comparison.position))
    return problems


def problems_of(source: str) -> list[str]:
    """Why a saved rule cannot work, in words: it no longer parses, or a comparison never matches."""
    try:
        rule = parse(source)
    except RuleError as error:
        return [str(error)]
    return [str(problem) for problem in never_true(rule)]


# Shipped defaults, used for every merchant and mode until the merchant edits its own list.
DEFAULT_RULES = (
    "block if score >= 90",
    "review if score >= 70",
    "review if card_country != ip_country and ip_country != billing_country and amount > 200",
    "review if card_declines_1d >= 5",
    "block if card_fraud_reports_30d > 0 and score >= 40",
)


@dataclass(frozen=True)
class Verdict:
    action: str  # block, review, allow, or "" when no rule matched
    rule: str


def evaluate(rules: list[Rule], context: dict) -> Verdict:
    for rule in rules:
        if rule.matches(context):
            return Verdict(rule.action, rule.source)
    return Verdict("", "")
