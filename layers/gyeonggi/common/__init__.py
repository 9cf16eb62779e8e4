"""What every bounded context shares: typed configuration, domain errors, observability."""
