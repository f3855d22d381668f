"""Charter keeps the promises a privacy policy makes."""

__version__ = "0.1.0"
