"""Preset scheme catalogues shipped as data."""
