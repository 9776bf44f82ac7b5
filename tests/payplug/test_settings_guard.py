"""With DEBUG off the platform refuses to start on a default secret key or an empty key ring."""

import os
import subprocess
import sys

from django.conf import settings

CHECK = [sys.executable, "-c", "import django; django.setup()"]


def run_with(env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "CARD_KEYS", "SECRET_KEY"}}
    env.update({"DJANGO_SETTINGS_MODULE": "payplug.settings", "ENV_FILE": "/nonexistent", "DEBUG": "0"})
    env.update(env_overrides)
    return subprocess.run(CHECK, env=env, capture_output=True, text=True, cwd=settings.BASE_DIR, check=False)


def test_it_refuses_the_default_secret_key():
    result = run_with({"CARD_KEYS": "1:" + "A" * 43 + "="})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_it_refuses_an_empty_key_ring():
    result = run_with({"SECRET_KEY": "x" * 50})
    assert result.returncode != 0
    assert "key ring is empty" in result.stderr


def test_it_starts_with_both():
    result = run_with({"SECRET_KEY": "x" * 50, "CARD_KEYS": "1:" + "A" * 43 + "="})
    assert result.returncode == 0, result.stderr


def test_debug_runs_without_either():
    result = run_with({"DEBUG": "1"})
    assert result.returncode == 0, result.stderr
