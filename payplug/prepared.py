"""Statements compiled once per thread, for the few that every API request runs.

Django compiles a queryset to SQL each time it is evaluated, and an INSERT each time a model is
saved. For the API key lookup (a join of two wide tables) and the payment INSERT (sixty
columns), compiling costs several times what the database then does with the statement
(bench/README.md, "Where the time goes"). These helpers keep what Django's own compiler
produced (the SQL, the column order, the value converters, the related-object populators) and
run it again with new parameters. Instances come out exactly as the ORM makes them, and the
`pre_save`/`post_save` signals are sent; tests/payplug/test_prepared.py compares both paths field
by field on every database the suite runs on.

A compiled statement belongs to the thread that compiled it, like Django's connections.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connections, models, router
from django.db.models import signals
from django.db.models.query import get_related_populators
from django.db.models.sql import InsertQuery

_local = threading.local()


def _cache() -> dict:
    cache = getattr(_local, "statements", None)
    if cache is None:
        cache = _local.statements = {}
    return cache


class _Select:
    __slots__ = ("compiler", "converters", "end", "init_list", "populators", "slots", "sql", "start")


class PreparedSelect:
    """One queryset shape, compiled once, run with new parameters: `first(*params)`.

    `build(*params)` returns the queryset. It is compiled with `examples`, one distinctive value
    of each parameter's type (by default one string); each must reach the SQL unchanged (an exact
    lookup, not `icontains`, which wraps it) exactly once, which is checked when compiling. Other
    values of the queryset are constants: a database may compile them into the SQL (SQLite's
    `WHERE is_live`) or pass them as parameters (MySQL's `is_live = %s`), and both are kept.
    """

    def __init__(self, model, build: Callable, examples: tuple = ("\x1fprepared\x1f",)):
        self.model = model
        self.build = build
        self.examples = list(examples)

    def _compile(self, alias: str) -> _Select:
        compiler = self.build(*self.examples).query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        slots = []  # for each SQL parameter: ("arg", index) or ("const", value)
        for value in params:
            matches = [
                i for i, example in enumerate(self.examples) if type(value) is type(example) and value == example
            ]
            slots.append(("arg", matches[0]) if matches else ("const", value))
        used = sorted(index for kind, index in slots if kind == "arg")
        if used != list(range(len(self.examples))):
            raise ValueError(f"{self.model.__name__}: the parameters do not reach the SQL unchanged: {params!r}")
        select, klass_info = compiler.select, compiler.klass_info
        if compiler.annotation_col_map or klass_info["model"] is not self.model:
            raise ValueError(f"{self.model.__name__}: only plain model querysets can be prepared")
        statement = _Select()
        statement.sql = sql
        statement.slots = slots
        statement.compiler = compiler
        statement.converters = compiler.get_converters([s[0] for s in select[0 : compiler.col_count]])
        fields = klass_info["select_fields"]
        statement.start, statement.end = fields[0], fields[-1] + 1
        statement.init_list = [column[0].target.attname for column in select[statement.start : statement.end]]
        statement.populators = get_related_populators(klass_info, select, alias)
        return statement

    def first(self, *params):
        """The first row's instance (with its select_related objects), or None."""
        if len(params) != len(self.examples):
            raise TypeError(f"{len(self.examples)} parameters expected, {len(params)} given")
        alias = router.db_for_read(self.model)
        key = (id(self), alias)
        cache = _cache()
        statement = cache.get(key)
        if statement is None:
            statement = cache[key] = self._compile(alias)
        with connections[alias].cursor() as cursor:
            cursor.execute(statement.sql, [params[x] if kind == "arg" else x for kind, x in statement.slots])
            row = cursor.fetchone()
        if row is None:
            return None
        if statement.converters:
            row = next(iter(statement.compiler.apply_converters([row], statement.converters)))
        instance = self.model.from_db(alias, statement.init_list, row[statement.start : statement.end])
        for populator in statement.populators:
            populator.populate(row, instance)
        return instance


# Field classes whose get_db_prep_save() returns a value of this Python type unchanged (on the
# backends we run: SQLite and MySQL). Exact classes only: a subclass may convert.
_PASS_THROUGH = {
    models.CharField: str,
    models.TextField: str,
    models.BooleanField: bool,
    models.IntegerField: int,
    models.SmallIntegerField: int,
    models.BigIntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveSmallIntegerField: int,
    models.PositiveBigIntegerField: int,
}


def insert(instance) -> None:
    """`instance.save()` of a new row whose id the database assigns, with the INSERT compiled once.

    Falls back to `save()` for an id already set, an inherited model or columns the database
    fills in (db_default), which would need RETURNING. Values must be plain values, not
    expressions such as `Now()` (TypeError).
    """
    model = type(instance)
    meta = model._meta
    if instance.pk is not None or meta.db_returning_fields != [meta.pk] or meta.parents:
        instance.save(force_insert=True)
        return
    alias = router.db_for_write(model, instance=instance)
    connection = connections[alias]
    key = ("insert", model, alias)
    cache = _cache()
    compiled = cache.get(key)
    if compiled is None:
        fields = [field for field in meta.local_concrete_fields if not field.generated and field is not meta.auto_field]
        query = InsertQuery(model)
        query.insert_values(fields, [instance])
        compiler = query.get_compiler(using=alias)
        (sql, params), *more = compiler.as_sql()
        if more or len(params) != len(fields) or sql.count("%s") != len(fields):
            raise ValueError(f"{model.__name__}: unexpected INSERT shape")
        plain = [_PASS_THROUGH.get(type(field)) for field in fields]
        compiled = cache[key] = (sql, fields, plain)
    sql, fields, plain = compiled
    instance._prepare_related_fields_for_save(operation_name="save")
    signals.pre_save.send(sender=model, instance=instance, raw=False, using=alias, update_fields=None)
    values = []
    for field, kind in zip(fields, plain, strict=True):
        value = field.pre_save(instance, True)
        if kind is not None and (value is None or type(value) is kind):  # get_db_prep_save's result
            values.append(value)
            continue
        if hasattr(value, "resolve_expression"):
            raise TypeError(f"{model.__name__}.{field.name}: insert() takes values, not expressions")
        values.append(field.get_db_prep_save(value, connection=connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        pk = connection.ops.last_insert_id(cursor, meta.db_table, meta.pk.column)
    setattr(instance, meta.pk.attname, pk)
    instance._state.db = alias
    instance._state.adding = False
    signals.post_save.send(sender=model, instance=instance, created=True, update_fields=None, raw=False, using=alias)
