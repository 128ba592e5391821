"""django-pg-migration-tools' operations, under their names.

`SaferRemoveIndexConcurrently` runs `DROP INDEX CONCURRENTLY IF EXISTS`, which is what Django's
own `RemoveIndexConcurrently` runs on PostgreSQL: the stand-in is that operation.
"""
from django.contrib.postgres.operations import RemoveIndexConcurrently


class SaferRemoveIndexConcurrently(RemoveIndexConcurrently):
    pass


# The package's other operations, stood in for by Django's with the same arguments and state
# effect. Their statements differ (the package builds indexes concurrently, with IF NOT EXISTS,
# and adds constraints NOT VALID or USING INDEX); the fixtures that use them list their table in
# `partitioned-tables`, where the harness observes no refusal either way.
from django.contrib.postgres.operations import AddIndexConcurrently  # noqa: E402
from django.db.migrations import AddConstraint, AddField  # noqa: E402


class SaferAddIndexConcurrently(AddIndexConcurrently):
    pass


class SaferAddUniqueConstraint(AddConstraint):
    pass


class SaferAddFieldForeignKey(AddField):
    pass


class SaferAddFieldOneToOne(AddField):
    pass
