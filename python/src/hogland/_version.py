"""The package version, the single source of truth (read by hatchling)."""

__version__ = "0.3.0"
