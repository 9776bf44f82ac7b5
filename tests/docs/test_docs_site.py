"""The documentation site: every page is in the navigation, the README is a front door, and
`mkdocs build --strict` succeeds (broken links and anchors, pages left out of the nav and any other
warning fail it)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import yaml

from tests.docs.pages import ROOT, all_pages

README = ROOT / "README.md"


def nav_pages(entries) -> list[str]:
    found = []
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        if isinstance(value, list):
            found.extend(nav_pages(value))
        else:
            found.append(value)
    return found


def mkdocs_config() -> dict:
    return yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))


def test_every_page_is_in_the_nav_once_and_every_nav_entry_exists():
    listed = nav_pages(mkdocs_config()["nav"])
    assert sorted(listed) == all_pages()
    assert len(listed) == len(set(listed))


def test_the_site_is_built_strictly_and_outside_the_tree():
    config = mkdocs_config()
    assert config["strict"] is True
    assert config["theme"]["name"] == "material"
    assert config["validation"]["omitted_files"] == "warn"
    assert config["validation"]["anchors"] == "warn"
    assert "/site/" in (ROOT / ".gitignore").read_text().splitlines()


def test_the_site_builds_without_a_warning(tmp_path):
    pytest.importorskip("mkdocs", reason="mkdocs and mkdocs-material are development dependencies")
    pytest.importorskip("material", reason="mkdocs-material is a development dependency")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", "mkdocs.yml", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "", "HOME": str(tmp_path)},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNING" not in output, output
    assert (tmp_path / "site" / "index.html").is_file()


def test_the_readme_is_a_front_door():
    text = README.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) <= 160, f"README.md has {len(lines)} lines: move the detail into docs/"
    assert "make run" in text and "make test" in text
    assert "4242 4242 4242 4242" in text and "curl" in text


def test_the_readme_describes_the_make_targets_truthfully():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.M))
    for target in re.findall(r"`make ([a-z][\w-]*)`", README.read_text(encoding="utf-8")):
        assert target in targets, f"README.md names `make {target}`, the Makefile has no such target"
    run = re.search(r"^run:(.*)$", makefile, re.M).group(1)
    assert "migrate" in run and "install" in run
    recipe = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    # runplatform: runserver plus the periodic tasks in-process (issue 12, item 22).
    assert "seed_demo" in recipe and "runplatform" in recipe and "$(HOST):$(PORT)" in recipe
    assert re.search(r"^HOST \?= 127\.0\.0\.1$", makefile, re.M) and re.search(r"^PORT \?= 8000$", makefile, re.M)
    test = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert test.index("ruff check") < test.index("lint-imports") < test.index("pytest")
    docs = makefile.split("\ndocs:", 1)[1].split("\n\n", 1)[0]
    assert "mkdocs build --strict" in docs and "--site-dir" in docs


def test_every_relative_link_of_the_readme_exists():
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README.read_text(encoding="utf-8")):
        if "://" not in target:
            assert (ROOT / target).exists(), f"README.md links to {target}, which does not exist"
