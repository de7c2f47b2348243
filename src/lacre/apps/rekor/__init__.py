"""The Rekor v1 and v2 HTTP APIs."""
