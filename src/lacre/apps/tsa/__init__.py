"""The RFC 3161 timestamp authority's HTTP API."""
