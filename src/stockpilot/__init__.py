"""stockpilot: inventory planning for e-commerce."""

__version__ = "0.1.0"
