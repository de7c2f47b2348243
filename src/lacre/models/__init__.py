"""Sigstore JSON documents: bundles, trusted roots, signing configs, log entries, TSAs."""
