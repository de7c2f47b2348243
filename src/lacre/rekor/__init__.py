"""The Sigstore transparency-log personality (Rekor v1 and v2) on top of the generic log.

:mod:`lacre.rekor.kinds` checks submissions and builds canonical bodies and
search keys; it is pure (no I/O) and knows nothing of HTTP or storage.
"""
