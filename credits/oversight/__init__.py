"""Oversight for townships and counties: village aggregates, the township table, integrity."""
