"""The `.env` of `make run` lets test-mode notifications reach the port it serves on (issue 12, item 22)."""

from payplug.devenv import write_dev_env


def lines(path):
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))


def test_the_loopback_port_is_the_one_make_run_serves_on(tmp_path):
    write_dev_env(str(tmp_path / "default.env"))
    assert lines(tmp_path / "default.env")["NOTIFICATIONS_ALLOWED_LOOPBACK_PORTS"] == "8000"
    write_dev_env(str(tmp_path / "other.env"), port=8765)
    assert lines(tmp_path / "other.env")["NOTIFICATIONS_ALLOWED_LOOPBACK_PORTS"] == "8765"


def test_an_existing_env_is_never_overwritten(tmp_path):
    target = tmp_path / ".env"
    target.write_text("DEBUG=1\n")
    write_dev_env(str(target), port=9000)
    assert target.read_text() == "DEBUG=1\n"
