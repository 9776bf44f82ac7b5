"""The MariaDB databases the benchmarks make for themselves."""

from __future__ import annotations

from urllib.parse import urlsplit

import MySQLdb


def recreate_database(database_url: str, prefix: str) -> None:
    """Drop and create the database of `database_url` (utf8mb4_bin, as the platform needs), only if
    its name starts with `prefix`: a benchmark never drops a database it does not own."""
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if not name.startswith(prefix):
        raise SystemExit(f"refusing to drop {name}: only {prefix}* databases are managed here")
    conn = MySQLdb.connect(
        host=parts.hostname, port=parts.port or 3306, user=parts.username or "root", passwd=parts.password or ""
    )
    cursor = conn.cursor()
    cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
    cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
    conn.close()
