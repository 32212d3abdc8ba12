"""The package version, the single source of truth (read by hatchling)."""

__version__ = "0.2.0"
