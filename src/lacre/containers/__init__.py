"""Signing, attesting and verifying container images: the OCI layer joined to signing and verification."""
