"""The certificate authority's HTTP APIs."""
