"""The index drop of django-pg-migration-tools, with the statement it runs.

`SaferRemoveIndexConcurrently` runs `DROP INDEX CONCURRENTLY IF EXISTS`, which is what Django's
own `RemoveIndexConcurrently` runs on PostgreSQL: the stand-in is that operation under the
package's name. The package's other operations are not stubbed; no verified fixture uses them.
"""
from django.contrib.postgres.operations import RemoveIndexConcurrently


class SaferRemoveIndexConcurrently(RemoveIndexConcurrently):
    pass
