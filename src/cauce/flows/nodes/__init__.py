"""Node types, one module each. The explicit table is :mod:`cauce.flows.registry`."""
