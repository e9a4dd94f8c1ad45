"""OpenAPI descriptions of the authentication classes (drf-spectacular), loaded in apps.ready."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "stores.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-AssetLink-Key",
            "description": "An AssetLink API key (al_…); `Authorization: Bearer al_…` also works. "
            "It reaches only its own store and workspace.",
        }


class ShopifySessionTokenScheme(OpenApiAuthenticationExtension):
    target_class = "stores.authentication.ShopifySessionTokenAuthentication"
    name = "shopifySessionToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A Shopify session token from App Bridge (embedded app).",
        }
