"""The domain of Merit Bank: models, rules and services, with no web framework."""
