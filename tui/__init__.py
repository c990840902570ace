"""vectros-usage: a terminal monitor for the Vectros usage report."""

__version__ = "0.1.0"
