"""HTTP endpoints of the built-in development OIDC issuer."""

from lacre.apps.oidc.routes import oidc_router

__all__ = ["oidc_router"]
