"""Container images in OCI registries: references, registry client, signature storage.

* :mod:`~lacre.oci.reference` — image references; :mod:`~lacre.oci.digest` — content digests.
* :mod:`~lacre.oci.registry` — the distribution API client (over :mod:`~lacre.oci.http`,
  :mod:`~lacre.oci.auth` and :mod:`~lacre.oci.credentials`).
* :mod:`~lacre.oci.legacy` — cosign ``.sig`` / ``.att`` tags; :mod:`~lacre.oci.bundles` —
  Sigstore bundles as OCI 1.1 referrers (:mod:`~lacre.oci.referrers`);
  :mod:`~lacre.oci.discovery` — everything attached to an image, and index walking.
"""
