"""Frame protection for the embedded app, and App Bridge's retry signal on 401s."""

from __future__ import annotations

from stores.authentication import presented_api_key
from stores.csp import content_security_policy
from stores.shopify.endpoints import sandbox_admin_origin

RETRY_HEADER = "X-Shopify-Retry-Invalid-Session-Request"


def embedded_shop(request) -> str | None:
    """The shop whose admin may frame this response.

    Only views made to run inside the admin opt in (`request.embedded_shop`, a validated shop
    domain): the app home and the bounce page. A query string alone never makes, say, the
    login page frameable by whatever shop it names.
    """
    return getattr(request, "embedded_shop", None)


class EmbeddedAppMiddleware:
    """Every HTML response gets the Content-Security-Policy of `stores.csp`, whose
    `frame-ancestors` depends on the request:

    Embedded (shop validated): the shop and admin.shopify.com (and, with the sandbox, the
    Shopify emulator's admin frame) may frame it, and Django's
    X-Frame-Options is lifted (it would block the Shopify admin). Otherwise `'none'` — and
    X-Frame-Options stays. Must come after XFrameOptionsMiddleware in MIDDLEWARE, so it sees
    the response first.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            shop = embedded_shop(request)
            if shop:
                sandbox = sandbox_admin_origin()  # the emulator's admin frame (demo, tests)
                ancestors = (
                    f"https://{shop} https://admin.shopify.com{' ' + sandbox if sandbox else ''}"
                )
                response.xframe_options_exempt = True
            else:
                ancestors = "'none'"
            if "Content-Security-Policy" not in response:
                response["Content-Security-Policy"] = content_security_policy(
                    request.path, ancestors
                )
        if response.status_code == 401 and presented_api_key(request) is None:
            # App Bridge fetches a fresh session token and retries the request once.
            response[RETRY_HEADER] = "1"
        return response
