"""Signing, attesting and verifying container images in OCI registries."""
