"""Reading the documentation pages, and finding in the code the figures they quote.

The code is looked up the way a reader would: through the API, Django's settings and app
registry, Celery's task names, and constants found by name anywhere in an application's package
(so that moving a constant from one module to another does not break these tests, while changing
its value does).
"""

from __future__ import annotations

import ast
import contextlib
import functools
import importlib
import pkgutil
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

_FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
_HEADING = re.compile(r"^(#{1,6}) +(.+?)\s*$", re.M)


def page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def all_pages() -> list[str]:
    return sorted(str(path.relative_to(DOCS)) for path in DOCS.rglob("*.md"))


def normalized(text: str) -> str:
    """The text with every run of white space made one space, so that a sentence may wrap anywhere."""
    return " ".join(text.split())


def code_blocks(text: str, *languages: str) -> list[str]:
    return [body for language, body in _FENCE.findall(text) if not languages or language in languages]


def without_code(text: str) -> str:
    return _FENCE.sub("", text)


def section(text: str, heading: str) -> str:
    """From the heading whose title is `heading` to the next heading of the same or a higher level."""
    text = without_code(text)
    for match in _HEADING.finditer(text):
        if match.group(2) == heading:
            level = len(match.group(1))
            rest = text[match.end() :]
            for later in _HEADING.finditer(rest):
                if len(later.group(1)) <= level:
                    return rest[: later.start()]
            return rest
    raise AssertionError(f"no heading {heading!r}")


def table_rows(text: str) -> list[list[str]]:
    """The data rows of every Markdown table outside code blocks: header and separator rows left out."""
    rows: list[list[str]] = []
    in_table = False
    for line in without_code(text).splitlines():
        line = line.strip()
        if not line.startswith("|"):
            in_table = False
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if not in_table:
            in_table = True  # the header row
            continue
        if all(set(cell) <= set("-: ") for cell in cells):
            continue
        rows.append(cells)
    return rows


def backticked(text: str) -> list[str]:
    return re.findall(r"`([^`]+)`", text)


def quoted(name: str, pattern: str) -> re.Match:
    """The match of `pattern` in page `name` (white space normalised); fails when the page does not say it."""
    match = re.search(pattern, normalized(page(name)))
    assert match, f"docs/{name} no longer says {pattern!r}: update the page and this test together"
    return match


# --- the code ---------------------------------------------------------------------------------------


@functools.cache
def modules(package: str) -> tuple:
    root = importlib.import_module(package)
    found = [root]
    for info in pkgutil.walk_packages(root.__path__, package + "."):
        if ".migrations" in info.name or ".tests" in info.name:
            continue
        found.append(importlib.import_module(info.name))
    return tuple(found)


def constant(package: str, name: str, kind: type | None = None):
    """The value named `name` in the modules of `package`, wherever it is defined (one value only;
    with `kind`, only values of that type count, e.g. the function and not the Celery task)."""
    values: list = []
    for module in modules(package):
        if name in vars(module):
            value = vars(module)[name]
            if kind is not None and not isinstance(value, kind):
                continue
            if not any(value is seen or _equal(value, seen) for seen in values):
                values.append(value)
    assert values, f"{name} is defined nowhere in the {package} package: where did it go?"
    assert len(values) == 1, f"{name} has several values in the {package} package: {values!r}"
    return values[0]


def _equal(a, b) -> bool:
    try:
        return bool(a == b)
    except Exception:
        return False


# --- environment variables ---------------------------------------------------------------------------

SETTINGS_FILE = ROOT / "payplug" / "settings.py"
# Names a default may be computed from without the page repeating them.
_IMPLICIT_NAMES = {"BASE_DIR", "Path", "str", "tempfile"}


@functools.cache
def settings_variables() -> dict[str, ast.expr | None]:
    """Every variable payplug/settings.py reads with `env.<type>("NAME", default=...)`: name -> default."""
    tree = ast.parse(SETTINGS_FILE.read_text(encoding="utf-8"))
    found: dict[str, ast.expr | None] = {}
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "env"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            continue
        default = next((keyword.value for keyword in node.keywords if keyword.arg == "default"), None)
        name = node.args[0].value
        if found.get(name) is None:
            found[name] = default
    return found


@functools.cache
def settings_constants() -> dict:
    """Module-level names of payplug/settings.py bound to a literal (`DEFAULT_SECRET_KEY = "..."`)."""
    tree = ast.parse(SETTINGS_FILE.read_text(encoding="utf-8"))
    constants = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            with contextlib.suppress(ValueError):
                constants[node.targets[0].id] = ast.literal_eval(node.value)
    return constants


_ARITHMETIC = (ast.BinOp, ast.UnaryOp, ast.Constant, ast.operator, ast.unaryop)


def constant_default(node: ast.expr) -> tuple[bool, object]:
    """(True, value) when the default is a constant (a literal, arithmetic on literals, or a constant
    of the settings module); (False, None) when it is computed from other settings."""
    if isinstance(node, ast.Name) and node.id in settings_constants():
        return True, settings_constants()[node.id]
    try:
        return True, ast.literal_eval(node)
    except ValueError:
        pass
    if all(isinstance(part, _ARITHMETIC) for part in ast.walk(node)):
        return True, eval(compile(ast.Expression(node), "<default>", "eval"), {"__builtins__": {}})  # literals only
    return False, None


def computed_from(node: ast.expr) -> tuple[set[str], list]:
    """The settings names and the literal values a computed default is made of."""
    names = {part.id for part in ast.walk(node) if isinstance(part, ast.Name)} - _IMPLICIT_NAMES
    literals = [
        part.value
        for part in ast.walk(node)
        if isinstance(part, ast.Constant) and not isinstance(part.value, bool) and part.value not in ("", None)
    ]
    return names, literals


def rendered(value) -> str | None:
    """How a constant default is written on the configuration page; None for "empty"."""
    if value in ("", [], None):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# Set by the system or the container runtime, not by an operator.
SYSTEM_VARIABLES = {"HOSTNAME", "HOME", "PATH", "PWD", "USER"}
_SKIPPED_DIRS = {".git", ".venv", ".venv-compat", "tests", "docs", "bench", "site", "locale", "static", "templates"}


def code_files() -> list[Path]:
    """The files that may read environment variables: Python modules, shell scripts, compose files."""
    files = []
    for top in ROOT.iterdir():
        if top.name in _SKIPPED_DIRS or top.name.startswith("."):
            continue
        candidates = top.rglob("*") if top.is_dir() else [top]
        for path in candidates:
            if "migrations" in path.parts or not path.is_file():
                continue
            if path.suffix in (".py", ".sh") or path.name in ("compose.yaml", "compose.yml"):
                files.append(path)
    return files


def environment_reads() -> dict[str, dict]:
    """Variables read outside the Django settings: name -> {"defaults": {...}, "required": bool}."""
    reads: dict[str, dict] = {}

    def note(name, default=None, required=False):
        if name in SYSTEM_VARIABLES:
            return
        entry = reads.setdefault(name, {"defaults": set(), "required": False})
        if default:  # an empty default (`${NAME:-}`) means unset
            entry["defaults"].add(default)
        entry["required"] |= required

    for path in code_files():
        if path == SETTINGS_FILE:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for name, default in re.findall(
            r"os\.environ\.get\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']\s*(?:,\s*[\"']([^\"']*)[\"'])?", text
        ):
            note(name, default)
        for name in re.findall(r"os\.environ\[\s*[\"']([A-Z][A-Z0-9_]*)[\"']\s*\]", text):
            note(name)
        if path.suffix == ".py":
            continue
        for name, default in re.findall(r"\$\{([A-Z][A-Z0-9_]*):-([^}]*)\}", text):
            note(name, default)
        for name in re.findall(r"\$\{([A-Z][A-Z0-9_]*):\?", text):
            note(name, required=True)
        for name in re.findall(r"\$\{?([A-Z][A-Z0-9_]*)\}?", text):
            note(name)
    return reads
