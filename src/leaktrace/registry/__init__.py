"""The breach registry: reports on the regulator's clock, organisations, roles and audit."""
