"""PostHog's `SafeRemoveIndexConcurrently`: `DROP INDEX CONCURRENTLY` with the statement and lock
timeouts disabled. The stand-in is Django's `RemoveIndexConcurrently` (the same statement); the
harness sets no timeouts, so disabling them changes nothing here.
"""
from django.contrib.postgres.operations import RemoveIndexConcurrently


class SafeRemoveIndexConcurrently(RemoveIndexConcurrently):
    pass
