"""The certificate authority: identities to short-lived certificates, and its CT log."""
