"""Engines composer can drive. Only this package imports ``docker``."""
