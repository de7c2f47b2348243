"""Container images in OCI registries: references, registry client, signature storage."""
