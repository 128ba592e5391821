"""Stand-in for django-pg-migration-tools (not packaged by Debian), so fixtures that use it import."""
