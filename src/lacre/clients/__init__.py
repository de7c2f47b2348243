"""HTTP clients for the certificate authority, transparency log and timestamp authority."""
