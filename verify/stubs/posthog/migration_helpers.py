"""PostHog's `SafeAddIndexConcurrently` and `SafeRemoveIndexConcurrently`: Django's concurrent
index operations with the statement and lock timeouts disabled. The stand-ins are Django's
operations (the same statements); the harness sets no timeouts, so disabling them changes nothing.
"""
from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently


class SafeAddIndexConcurrently(AddIndexConcurrently):
    pass


class SafeRemoveIndexConcurrently(RemoveIndexConcurrently):
    pass
