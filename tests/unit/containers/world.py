"""A signing world in memory for image tests: fake CA, Rekor v1 log and registry."""

from __future__ import annotations

from dataclasses import dataclass

from lacre.keys import SoftwareSigner, generate_signer
from lacre.models.trust_reader import TrustedRoot
from lacre.oci.reference import ImageReference
from lacre.oci.registry import RegistryClient
from lacre.sign import SigningContext, SigningSession
from lacre.testing.ocilayout import push_image, push_index, random_image, random_index
from lacre.verify import AllOf, Identity, Issuer, ManagedKey, Verifier
from tests.unit.oci.fakeregistry import HOST, FakeRegistry
from tests.unit.oci.helpers import client_for
from tests.unit.sign.fakes import FakeCA, FakeLog
from tests.unit.verify.world import World

POLICY = AllOf(Identity("alice@example.com"), Issuer("https://issuer.example.test"))
REPO = ImageReference.parse(f"{HOST}/ns/app:v1")


@dataclass
class ImageWorld:
    """A trusted root, a keyless and a key session, and a fake registry with a client."""

    root: TrustedRoot
    keyless: SigningSession
    signer: SoftwareSigner
    keyed: SigningSession
    fake: FakeRegistry
    client: RegistryClient

    @property
    def key_policy(self) -> ManagedKey:
        """The policy of the key session."""
        return ManagedKey(self.signer.public_key)

    def verifier(self) -> Verifier:
        """An offline verifier for the world's trusted root."""
        return Verifier(self.root)

    def fresh_client(self) -> RegistryClient:
        """Another client on the same fake registry (round trips counted from zero)."""
        return client_for(self.fake)

    def push(self, tag: str = "v1") -> ImageReference:
        """A new random image at ``tag``, pinned."""
        return push_image(self.client, REPO.with_tag(tag), random_image())

    def push_index(self, tag: str = "multi") -> ImageReference:
        """A new random two-platform index at ``tag``, pinned."""
        return push_index(self.client, REPO.with_tag(tag), random_index())


def image_world(*, referrers_api: bool = False) -> ImageWorld:
    """A fresh world (registry without the referrers API unless asked)."""
    world = World()
    root = TrustedRoot.from_json(world.trusted_root())
    context = SigningContext(trusted_root=root, tlogs=[FakeLog(world)], ca=FakeCA(world))
    signer = generate_signer()
    fake = FakeRegistry(referrers_api=referrers_api)
    return ImageWorld(
        root, context.keyless("token"), signer, context.with_key(signer), fake, client_for(fake)
    )
