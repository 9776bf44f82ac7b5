"""The platform's system checks (payplug/checks.py)."""

from unittest import mock

import pytest
from django.db import connection

from payplug import checks

pytestmark = pytest.mark.django_db


@pytest.mark.mysql
def test_this_servers_time_zone_tables_are_loaded():
    assert checks.mysql_time_zone_tables(databases=["default"]) == []


def test_a_mysql_server_without_time_zone_tables_is_an_error():
    cursor = mock.MagicMock()
    cursor.__enter__.return_value.fetchone.return_value = (None,)
    with mock.patch.object(connection, "vendor", "mysql"), mock.patch.object(connection, "cursor", return_value=cursor):
        errors = checks.mysql_time_zone_tables(databases=["default"])
    assert [e.id for e in errors] == ["payplug.E001"]
    assert "mariadb-tzinfo-to-sql" in errors[0].hint


def test_other_databases_are_not_asked():
    with mock.patch.object(connection, "vendor", "sqlite"):
        assert checks.mysql_time_zone_tables(databases=["default"]) == []
