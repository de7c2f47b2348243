"""Sigstore JSON documents: trusted roots (and, later, bundles and signing configs)."""
