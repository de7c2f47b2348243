"""Offline verification of Sigstore bundles: raises with a reason, never returns False."""
