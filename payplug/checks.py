"""System checks of the platform's own requirements on its environment."""

from django.core.checks import Error, Tags, register
from django.db import connections


@register(Tags.database)
def mysql_time_zone_tables(app_configs=None, databases=None, **kwargs):
    """On MySQL/MariaDB, named time zones need the server's time zone tables (Django's MySQL
    notes): without them CONVERT_TZ answers NULL and every figure grouped by day in an
    organisation's time zone comes out empty. Run by `migrate` and `check --database default`."""
    errors = []
    for alias in databases or ():
        connection = connections[alias]
        if connection.vendor != "mysql":
            continue
        with connection.cursor() as cursor:
            cursor.execute("SELECT CONVERT_TZ('2026-01-01 00:00:00', 'UTC', 'Europe/Paris')")
            (converted,) = cursor.fetchone()
        if converted is None:
            errors.append(
                Error(
                    f"The time zone tables of database '{alias}' are not loaded.",
                    hint="Load them once per server: mariadb-tzinfo-to-sql /usr/share/zoneinfo | mysql -u root mysql "
                    "(MariaDB's Docker image loads them by itself).",
                    id="payplug.E001",
                )
            )
    return errors
