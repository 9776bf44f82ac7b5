"""docker/: the files cannot be built here (no Docker), so their shape is checked instead, and the
entrypoint and gunicorn configuration are run with stand-in programs."""

import importlib.util
import json
import logging
import os
import re
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from gunicorn.config import Config
from prometheus_client import multiprocess

ROOT = Path(settings.BASE_DIR)
DOCKER = ROOT / "docker"
APP_SERVICES = ("web", "worker", "beat")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def dockerfile():
    return (DOCKER / "Dockerfile").read_text()


def stages(dockerfile):
    """{stage name: its instructions, continuation lines joined}."""
    text = re.sub(r"\\\n", " ", dockerfile)
    found, current = {}, None
    for line in text.splitlines():
        match = re.match(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line, re.IGNORECASE)
        if match:
            current = match.group(2) or f"stage{len(found)}"
            found[current] = [line]
        elif current and line.strip() and not line.lstrip().startswith("#"):
            found[current].append(line.strip())
    return found


def env_example():
    values = {}
    for line in (DOCKER / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value
    return values


# --- compose.yaml -----------------------------------------------------------------------------


def test_compose_has_the_five_services(compose):
    assert set(compose["services"]) >= {"web", "worker", "beat", "mysql", "redis"}


def test_every_service_has_a_health_check(compose):
    for name, service in compose["services"].items():
        check = service.get("healthcheck")
        assert check and not check.get("disable") and check.get("test"), name


def test_the_database_and_redis_images(compose):
    assert re.match(r"^(mysql:8\.4|mariadb:11)", compose["services"]["mysql"]["image"])
    assert compose["services"]["redis"]["image"].startswith("redis:7")


def test_app_services_run_one_image_in_three_roles(compose):
    for name in APP_SERVICES:
        service = compose["services"][name]
        assert service["build"]["dockerfile"] == "docker/Dockerfile"
        assert service["build"]["context"] == ".."
        assert service["command"] == [name]
        assert service["env_file"] in (".env", "./.env", ["./.env"], [".env"])  # docker/.env
        assert service["cap_drop"] == ["ALL"]


def test_app_services_wait_for_healthy_dependencies(compose):
    for name in APP_SERVICES:
        depends_on = compose["services"][name]["depends_on"]
        for dependency in ("mysql", "redis"):
            assert depends_on[dependency]["condition"] == "service_healthy", (name, dependency)
    # Worker and beat start after web has run the migrations and answers /healthz.
    for name in ("worker", "beat"):
        assert compose["services"][name]["depends_on"]["web"]["condition"] == "service_healthy"


def test_only_web_migrates_and_it_has_a_tmpfs_for_prometheus(compose):
    web = compose["services"]["web"]
    assert web["environment"]["MIGRATE"] == "1"
    metrics_dir = web["environment"]["PROMETHEUS_MULTIPROC_DIR"]
    assert any(mount.split(":")[0] == metrics_dir for mount in web["tmpfs"])
    for name in ("worker", "beat"):
        assert "MIGRATE" not in (compose["services"][name].get("environment") or {})


def test_there_is_exactly_one_beat_with_a_writable_schedule_volume(compose):
    beat = compose["services"]["beat"]
    assert beat["deploy"]["replicas"] == 1
    assert any(volume.endswith(":/var/lib/payplug/beat") for volume in beat["volumes"])


def test_the_database_container_does_not_receive_the_app_secrets(compose):
    mysql = compose["services"]["mysql"]
    assert "env_file" not in mysql
    assert not {"SECRET_KEY", "CARD_KEYS"} & set(mysql.get("environment") or {})


def test_data_lives_in_named_volumes(compose):
    assert {"mysql", "redis", "media", "beat"} <= set(compose["volumes"])


# --- Dockerfile ---------------------------------------------------------------------------------


def test_the_dockerfile_is_multi_stage(dockerfile):
    found = stages(dockerfile)
    assert list(found) == ["builder", "runtime"]
    assert "python:3.11-slim" in dockerfile
    for stage in found.values():
        assert "PYTHON_IMAGE" in stage[0]
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", dockerfile, re.MULTILINE)


def test_only_the_builder_has_a_compiler(dockerfile):
    builder = " ".join(stages(dockerfile)["builder"])
    runtime = " ".join(stages(dockerfile)["runtime"])
    for package in ("gcc", "libmariadb-dev", "pkg-config"):
        assert package in builder
        assert package not in runtime
    assert "pip wheel" in builder and "[mysql]" in builder
    assert "libmariadb3" in runtime and "gettext" in runtime
    assert "from=builder" in runtime and "--no-index" in runtime


def test_static_files_and_catalogues_are_built_into_the_image(dockerfile):
    runtime = " ".join(stages(dockerfile)["runtime"])
    assert "compilemessages" in runtime
    assert "collectstatic --noinput" in runtime
    # The manifest storage of production is only used with DEBUG off.
    assert "DEBUG=0" in runtime


def test_the_image_runs_as_a_non_root_user(dockerfile):
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert users, "no USER instruction"
    assert users[-1].split(":")[0] not in ("root", "0")
    assert "useradd" in dockerfile and " app" in dockerfile


def test_the_image_has_a_healthcheck_and_the_entrypoint(dockerfile):
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", dockerfile, re.MULTILINE)
    assert 'ENTRYPOINT ["/app/docker/entrypoint.sh"]' in dockerfile
    assert 'CMD ["web"]' in dockerfile


def test_dockerignore_keeps_secrets_and_local_state_out():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".git", ".venv", ".env", "docker/.env", "db.sqlite3*"} <= ignored


# --- .env.example -------------------------------------------------------------------------------

SETTING_READ = re.compile(r"\benv(?:\.\w+)?\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']")


def test_env_example_lists_every_variable_the_settings_read():
    read = set(SETTING_READ.findall((ROOT / "payplug" / "settings.py").read_text()))
    assert {"SECRET_KEY", "CARD_KEYS", "DATABASE_URL", "METRICS_TOKEN"} <= read
    missing = read - set(env_example())
    assert not missing, f"add these variables of payplug/settings.py to docker/.env.example: {sorted(missing)}"


def test_env_example_ships_no_secrets_and_no_debug():
    values = env_example()
    assert values["SECRET_KEY"] == ""
    assert values["CARD_KEYS"] == ""
    assert values["DEBUG"] == "0"
    assert values["NOTIFICATIONS_ALLOW_PRIVATE_NETWORKS"] == "0"
    assert values["MARIADB_PASSWORD"] in values["DATABASE_URL"]


def test_env_example_refuses_to_start_until_secrets_are_set_and_loads_once_they_are():
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CARD_", "SECRET_", "PYTEST"))}
    base = {**base, **env_example(), "DJANGO_SETTINGS_MODULE": "payplug.settings"}
    check = [
        sys.executable,
        "-c",
        "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)",
    ]

    as_shipped = subprocess.run(check, env=base, cwd=ROOT, capture_output=True, text=True, check=False)
    assert as_shipped.returncode != 0
    assert "SECRET_KEY" in as_shipped.stderr

    filled = {**base, "SECRET_KEY": "x" * 50, "CARD_KEYS": "1:" + "A" * 43 + "="}
    configured = subprocess.run(check, env=filled, cwd=ROOT, capture_output=True, text=True, check=False)
    assert configured.returncode == 0, configured.stderr
    assert configured.stdout.strip() == "False"


# --- entrypoint.sh, with stand-ins for python, gunicorn and celery -------------------------------


@pytest.fixture
def entrypoint(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls.log"
    for program in ("python", "gunicorn", "celery"):
        stub = bin_dir / program
        stub.write_text(f'#!/bin/sh\necho "{program} $*" >> "{calls}"\n')
        stub.chmod(0o755)

    def run(*args, **env):
        calls.unlink(missing_ok=True)
        full_env = {"PATH": f"{bin_dir}:/usr/bin:/bin", **env}
        result = subprocess.run(
            ["/bin/sh", str(DOCKER / "entrypoint.sh"), *args],
            env=full_env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        assert result.returncode == 0, result.stderr
        return calls.read_text().splitlines() if calls.exists() else [], result.stdout

    return run


def test_entrypoint_is_executable():
    assert os.stat(DOCKER / "entrypoint.sh").st_mode & stat.S_IXUSR


def test_web_waits_migrates_when_asked_then_execs_gunicorn(entrypoint, tmp_path):
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_text("stale")
    calls, _ = entrypoint("web", MIGRATE="1", GUNICORN_WORKERS="3", PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    assert calls[0] == "python manage.py wait_for_services --timeout 60"
    assert calls[1] == "python manage.py migrate --noinput"
    assert calls[2].startswith("gunicorn payplug.wsgi:application --config /app/docker/gunicorn.conf.py")
    assert "--workers 3" in calls[2] and "--bind 0.0.0.0:8000" in calls[2]
    assert len(calls) == 3
    assert not list(metrics_dir.iterdir()), "stale metric files must be removed"


def test_web_does_not_migrate_by_default(entrypoint):
    calls, _ = entrypoint("web")
    assert not any("migrate" in call for call in calls)
    assert "--workers 4" in calls[-1]


def test_worker_and_beat_never_migrate(entrypoint):
    calls, _ = entrypoint("worker", MIGRATE="1", CELERY_CONCURRENCY="2")
    assert calls[0].startswith("python manage.py wait_for_services")
    assert calls[1] == "celery -A payplug worker --loglevel info --concurrency 2"
    assert len(calls) == 2

    calls, _ = entrypoint("beat", MIGRATE="1", WAIT_FOR_SERVICES="0")
    assert calls == ["celery -A payplug beat --loglevel info --schedule /var/lib/payplug/beat/celerybeat-schedule"]


def test_extra_arguments_and_other_commands_pass_through(entrypoint):
    calls, _ = entrypoint("worker", "-Q", "notifications", WAIT_FOR_SERVICES="0")
    assert calls == ["celery -A payplug worker --loglevel info --concurrency 4 -Q notifications"]
    calls, stdout = entrypoint("echo", "hello")
    assert stdout.strip() == "hello"
    assert calls == []


# --- gunicorn.conf.py -----------------------------------------------------------------------------


@pytest.fixture
def gunicorn_conf():
    spec = importlib.util.spec_from_file_location("gunicorn_conf_under_test", DOCKER / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Response:
    def __init__(self, status, headers):
        self.status, self.headers, self.sent = status, headers, 42


def access_lines(gunicorn_conf, path, status="200 OK"):
    config = Config()
    config.set("accesslog", "-")
    logger = gunicorn_conf.JsonAccessLogger(config)
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.access_log.handlers = [handler]
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "token=secret", "REMOTE_ADDR": "10.0.0.9"}
    response = _Response(status, [("Content-Type", "text/html"), ("X-Request-Id", "req_abc")])
    logger.access(response, None, environ, timedelta(milliseconds=12))
    return [json.loads(record.getMessage()) for record in records]


def test_gunicorn_access_lines_are_json_with_the_request_id(gunicorn_conf):
    (line,) = access_lines(gunicorn_conf, "/dashboard/payments/4111111111111111/")
    assert line["request_id"] == "req_abc"
    assert line["status"] == 200 and line["method"] == "GET" and line["bytes"] == 42
    assert line["duration_ms"] == 12.0
    assert line["path"] == "/dashboard/payments/************1111/"
    assert "secret" not in str(line)


def test_successful_probes_are_not_logged_but_failing_ones_are(gunicorn_conf):
    assert access_lines(gunicorn_conf, "/healthz") == []
    assert len(access_lines(gunicorn_conf, "/readyz", "503 Service Unavailable")) == 1


def test_gunicorn_forgets_dead_workers_in_multiprocess_mode(gunicorn_conf, tmp_path, monkeypatch):
    dead = []
    monkeypatch.setattr(multiprocess, "mark_process_dead", dead.append)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    class Worker:
        pid = 4242

    gunicorn_conf.child_exit(None, Worker())
    assert dead == [4242]
    assert gunicorn_conf.control_socket_disable is True
    assert gunicorn_conf.worker_tmp_dir == "/dev/shm"
