"""jaju (자주): a sovereign AI platform, Korean first."""

__version__ = "0.1.0"
