"""lacre: a complete, self-hostable Sigstore."""

__version__ = "0.1.0"
