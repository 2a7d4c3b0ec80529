"""Printed documents (PDF): embedded fonts, the shared page frame and the printouts."""
