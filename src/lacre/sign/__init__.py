"""Signing: ephemeral key, certificate, signature, log entry, timestamp, bundle."""
