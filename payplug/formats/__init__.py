"""The platform's date formats, one per language (settings.FORMAT_MODULE_PATH): every date a
person reads, on dashboard pages, in the dashboard's CSV and in emails, is written in one of these
(through the `local_datetime` / `local_date` template filters of payplug.templatetags.dates).

Only the date and time names are set; numbers keep Django's formats of each language.
"""
