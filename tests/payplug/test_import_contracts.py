"""The import-linter contracts of pyproject.toml hold, and they catch a boundary broken on purpose.

`make lint` (and so CI) runs `lint-imports`; these tests plant one forbidden import in a copy of
the source tree and check that the contracts refuse it, so a contract that silently matches
nothing (a renamed module, a typo in a layer) cannot pass unnoticed.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("payplug", "merchants", "notifications", "payments", "fraud", "associations")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """A copy of the Python packages and pyproject.toml (no migrations, templates or data)."""
    copy = tmp_path_factory.mktemp("tree")
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return copy


def test_the_contracts_hold_on_the_real_tree():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "planted", "broken"),
    [
        # money never imports the core services (it sits below them)
        ("payments/money/ledger.py", "from payments import services", "payments in floors"),
        # no surface imports another
        ("payments/checkout/page.py", "from payments.dashboard import views", "payments in floors"),
        ("payments/api/views.py", "from payments.checkout import guards", "payments in floors"),
        # the state machine knows nothing of the dashboard, even from inside a function
        ("payments/services.py", "def _planted():\n    from payments.dashboard import queries", "payments in floors"),
        # notifications never imports payments or fraud; payments never imports fraud
        ("notifications/models.py", "from payments.models import Payment", "Apps in floors"),
        ("payments/services.py", "from fraud import services as fraud", "Apps in floors"),
        # payplug, the core, imports no app outside its URL wiring
        ("payplug/views.py", "from merchants import models", "Apps in floors"),
        # circles between siblings
        ("payments/vault.py", "from payments import cards", None),
    ],
)
def test_a_boundary_broken_on_purpose_fails_the_lint(tree, module, planted, broken):
    target = tree / module
    original = target.read_text()
    try:
        if broken is None:  # a circle: cards -> vault as well as vault -> cards
            cards = tree / "payments/cards.py"
            cards.write_text(cards.read_text() + "\nfrom payments import vault\n")
            broken = "No import circles"
        target.write_text(original + "\n" + planted + "\n")
        result = lint_imports(tree)
    finally:
        target.write_text(original)
        shutil.copy(ROOT / "payments/cards.py", tree / "payments/cards.py")
    assert result.returncode != 0, result.stdout
    assert f"{broken}" in result.stdout.replace("\n", " ")
    assert "BROKEN" in result.stdout
