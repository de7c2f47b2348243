"""The CA service: authenticate the token, check the key and its possession, issue."""

from __future__ import annotations

from lacre.ca.issuer import CertificateAuthority, IssuedChain
from lacre.ca.possession import check_signed_name
from lacre.ca.requests import KeyRequest
from lacre.oidc import TokenError, TokenVerifier


class CaService:
    """Turns an OIDC identity token and a key request into a certificate chain."""

    def __init__(self, authority: CertificateAuthority, verifier: TokenVerifier) -> None:
        """Issue with ``authority`` for tokens ``verifier`` accepts."""
        self.authority, self.verifier = authority, verifier

    async def sign(self, token: str | None, request: KeyRequest) -> IssuedChain:
        """Check ``token`` and the proof of possession, then issue a certificate."""
        if not token:
            raise TokenError(
                "no identity token: send it as credentials.oidcIdentityToken "
                "or in an Authorization: Bearer header"
            )
        principal = self.verifier.principal(token)
        key = request.public_key()
        if request.signed_name is not None:
            check_signed_name(key, principal.name, request.signed_name)
        return await self.authority.issue(principal, key)
