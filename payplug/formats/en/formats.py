"""Dates in English, as written in Europe (day first, 24-hour clock): '3 Dec 2026, 14:05'."""

DATETIME_FORMAT = SHORT_DATETIME_FORMAT = "j M Y, H:i"
DATE_FORMAT = SHORT_DATE_FORMAT = "j M Y"
MONTH_DAY_FORMAT = "j M"
TIME_FORMAT = "H:i"
