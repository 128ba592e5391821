"""Stand-in for PostHog's migration helpers, so fixtures that use them import."""
