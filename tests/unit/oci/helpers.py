"""Shared set-up for the storage tests: a fake registry holding one pushed test image."""

from __future__ import annotations

from lacre.oci.reference import ImageReference
from lacre.oci.registry import RegistryClient
from lacre.testing.ocilayout import push_image, random_image
from tests.unit.oci.fakeregistry import HOST, FakeRegistry

REPO = ImageReference.parse(f"{HOST}/ns/app:v1")


def client_for(fake: FakeRegistry) -> RegistryClient:
    """A client whose network is ``fake``."""
    return RegistryClient(transport=fake.transport(), sleep=lambda _s: None)


def pushed_image(fake: FakeRegistry) -> tuple[RegistryClient, ImageReference]:
    """A client and a freshly pushed random image, pinned by digest."""
    client = client_for(fake)
    return client, push_image(client, REPO, random_image())
