"""Send the dashboard's read-only queries to a MySQL replica, when one is configured.

Views opt in with `Model.objects.using(read_replica())`: reads that feed money movements
always go to the primary, since a replica may lag.
"""

from django.conf import settings


def read_replica() -> str:
    return "replica" if "replica" in settings.DATABASES else "default"


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        return None  # the primary, unless a query names the replica explicitly

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"
