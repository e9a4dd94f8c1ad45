"""The Shopify Admin API emulator as a werkzeug WSGI app. See sandbox/README.md.

Every Shopify route is served under a shop prefix (`/{shop}/admin/...`) and without one
(`/admin/...`, the shop taken from the access token or a `shop` parameter).
"""

from __future__ import annotations

import json
import time
from typing import Any

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import BaseConverter, Map, Rule
from werkzeug.wrappers import Request, Response

from . import admin, control, oauth, uploads
from .graphql_api import handle_graphql
from .state import State


class ShopConverter(BaseConverter):
    regex = r"[A-Za-z0-9][A-Za-z0-9-]*\.myshopify\.com"


URLS = Map(
    [
        Rule("/<shop:shop>/admin/api/<version>/graphql.json", endpoint="graphql", methods=["POST"]),
        Rule("/admin/api/<version>/graphql.json", endpoint="graphql", methods=["POST"]),
        Rule("/<shop:shop>/admin/oauth/authorize", endpoint="authorize", methods=["GET", "POST"]),
        Rule("/admin/oauth/authorize", endpoint="authorize", methods=["GET", "POST"]),
        Rule("/<shop:shop>/admin/oauth/access_token", endpoint="access_token", methods=["POST"]),
        Rule("/admin/oauth/access_token", endpoint="access_token", methods=["POST"]),
        Rule(
            "/staged-uploads/<token>/<path:filename>",
            endpoint="staged",
            methods=["GET", "PUT", "POST", "HEAD"],
        ),
        Rule("/staged-uploads/<token>", endpoint="staged", methods=["POST"]),
        Rule("/cdn/<shop:shop>/files/<int:file_id>/<path:filename>", endpoint="cdn"),
        Rule("/bulk/<shop:shop>/<int:op_id>.jsonl", endpoint="bulk_result"),
        Rule("/<shop:shop>/admin/apps/<api_key>", endpoint="admin_app"),
        Rule("/app-bridge.js", endpoint="app_bridge"),
        Rule("/_control/<path:path>", endpoint="control", methods=["GET", "POST", "DELETE"]),
        Rule("/_control/", endpoint="control", defaults={"path": ""}, methods=["GET"]),
        Rule("/", endpoint="index"),
    ],
    converters={"shop": ShopConverter},
)


class ShopifyEmulator:
    """The WSGI app; `.state` is the in-memory emulator state."""

    def __init__(self, state: State) -> None:
        self.state = state

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except HTTPException as e:
            response = e.get_response(environ)
        return response(environ, start_response)

    def base_url(self, request: Request) -> str:
        return request.host_url.rstrip("/")

    def dispatch(self, request: Request) -> Response:
        adapter = URLS.bind_to_environ(request.environ)
        try:
            endpoint, values = adapter.match()
        except NotFound:
            return _json({"errors": "Not Found"}, 404)
        shop = values.pop("shop", None)
        if shop:
            shop = shop.lower()
        state = self.state
        if endpoint == "graphql":
            return handle_graphql(state, request, shop, self.base_url(request), values["version"])
        if endpoint == "authorize":
            return oauth.authorize(state, request, shop)
        if endpoint == "access_token":
            return oauth.access_token(state, request, shop)
        if endpoint == "staged":
            return uploads.staged(state, request, values["token"], values.get("filename"))
        if endpoint == "cdn":
            return uploads.cdn(state, request, shop, values["file_id"])
        if endpoint == "bulk_result":
            return uploads.bulk_result(state, shop, values["op_id"])
        if endpoint == "admin_app":
            return admin.admin_frame(state, request, shop, values["api_key"])
        if endpoint == "app_bridge":
            return admin.app_bridge_js()
        if endpoint == "control":
            return control.handle(state, request, values["path"], self.base_url(request))
        return _json(
            {
                "emulator": "shopify",
                "shops": sorted(state.shops),
                "time": time.time(),
                "docs": "sandbox/README.md",
            }
        )


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")


def make_app(*, state: State | None = None, **config: Any) -> ShopifyEmulator:
    """Build the emulator. Config keys: api_key, api_secret, app_url, media_delay, token_lifetime,
    bucket_size, job_delay, bulk_delay, download_timeout, refresh_token_lifetime,
    auto_create_shops, scopes."""
    if state is None:
        state = State(**config)
    elif config:
        control.apply_config(state, config)
    return ShopifyEmulator(state)
