"""The shop's admin with the app embedded, and a stand-in App Bridge — so the demo and the
browser tests show the app as a merchant sees it, without Shopify's CDN.

- `GET /{shop}/admin/apps/{api_key}[?staff=ID]`: an admin page (top bar, navigation, the app in
  an iframe). The iframe loads the app's URL (config `app_url`, from SANDBOX_APP_URL or
  APP_URL) with `embedded=1&shop&host&id_token` as Shopify does: a session token the emulator
  mints, signed with the app's secret (HS256, one minute) for staff member ID (default 1).
- `GET /app-bridge.js`: `window.shopify.idToken()` asks the admin frame (postMessage) for a
  fresh session token, which the frame mints here and posts back to the app's origin only.
  Like App Bridge it also reloads a bounce page's `shopify-reload` path with a fresh token.
"""

from __future__ import annotations

import base64
import html
import json

from werkzeug.wrappers import Request, Response

from . import oauth
from .state import State

MESSAGE = "sandbox-app-bridge:idToken"


def admin_frame(state: State, request: Request, shop_domain: str, api_key: str) -> Response:
    with state.lock:
        shop = state.shops.get(shop_domain)
        app_url = (state.config.get("app_url") or "").rstrip("/")
        known = api_key == state.config["api_key"]
    if shop is None or not known:
        return _page("Not found", f"<p>No app {html.escape(api_key)} in {shop_domain}.</p>", 404)
    if not app_url:
        return _page(
            "App URL missing",
            "<p>Set the app's URL: <code>SANDBOX_APP_URL</code>, or "
            '<code>POST /_control/config {"app_url": …}</code>.</p>',
            409,
        )
    staff = request.args.get("staff", "1")
    token = oauth.mint_session_token(state, shop_domain, sub=staff)
    admin_host = f"{request.host}/{shop_domain}/admin"
    host = base64.urlsafe_b64encode(admin_host.encode()).decode().rstrip("=")
    src = f"{app_url}/?embedded=1&shop={shop_domain}&host={host}&id_token={token}"
    config = {"shop": shop_domain, "staff": staff, "app": _origin(app_url), "message": MESSAGE}
    body = f"""
<header class="bar"><span class="logo"><span class="mark">S</span> Shopify admin</span>
  <span class="sandbox">sandbox</span><span class="shop">{html.escape(shop.name)}</span></header>
<div class="admin">
  <nav aria-label="Admin"><a>Home</a><a>Orders</a><a>Products</a><a>Customers</a>
    <a>Content</a><a>Analytics</a><p class="apps">Apps</p>
    <a aria-current="page" class="current">{html.escape(state.config["app_name"])}</a></nav>
  <main><iframe id="app-iframe" name="app-iframe" title="{html.escape(state.config["app_name"])}"
    src="{html.escape(src)}"></iframe></main>
</div>
<script>
const config = {json.dumps(config)};
async function mint() {{
  const response = await fetch(`/_control/shops/${{config.shop}}/session-token`, {{
    method: "POST", headers: {{ "Content-Type": "application/json" }},
    body: JSON.stringify({{ claims: {{ sub: config.staff }} }}),
  }});
  return (await response.json()).session_token;
}}
window.addEventListener("message", async (event) => {{
  if (event.origin !== config.app || event.data?.type !== config.message) return;
  event.source.postMessage({{ type: config.message, id: event.data.id, token: await mint() }},
    event.origin);
}});
</script>"""
    return _page(f"{state.config['app_name']} · {shop.name}", body)


APP_BRIDGE_JS = """// AssetLink sandbox: a stand-in for Shopify's App Bridge (the emulator's admin frame).
(() => {
  if (window.shopify) return;
  const MESSAGE = "MESSAGE_TYPE";
  const waiting = new Map();
  let seq = 0;
  window.addEventListener("message", (event) => {
    const data = event.data;
    if (event.source !== window.parent || data?.type !== MESSAGE || !waiting.has(data.id)) return;
    waiting.get(data.id).resolve(data.token);
    waiting.delete(data.id);
  });
  function idToken() {
    if (window.parent === window) {
      return Promise.reject(new Error("Open the app from the Shopify admin (it is not embedded)."));
    }
    return new Promise((resolve, reject) => {
      const id = ++seq;
      waiting.set(id, { resolve });
      window.parent.postMessage({ type: MESSAGE, id }, "*");
      setTimeout(() => {
        if (waiting.delete(id)) reject(new Error("The Shopify admin gave no session token."));
      }, 5000);
    });
  }
  const apiKey = document.querySelector('meta[name="shopify-api-key"]')?.content || "";
  window.shopify = { idToken, sandbox: true, config: { apiKey } };
  // Like App Bridge on a bounce page: reload `shopify-reload` with a fresh session token.
  const reload = new URLSearchParams(location.search).get("shopify-reload");
  if (reload) {
    idToken().then((token) => {
      const url = new URL(reload, location.origin);
      if (url.origin !== location.origin) return;
      url.searchParams.set("id_token", token);
      location.replace(url);
    });
  }
})();
""".replace("MESSAGE_TYPE", MESSAGE)


def app_bridge_js() -> Response:
    return Response(APP_BRIDGE_JS, mimetype="text/javascript")


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


STYLE = """
body { margin: 0; font: 14px/1.4 -apple-system, BlinkMacSystemFont, "San Francisco", "Segoe UI",
  Roboto, "Helvetica Neue", sans-serif; background: #f1f1f1; color: #303030; }
.bar { height: 56px; background: #1a1a1a; color: #e3e3e3; display: flex; align-items: center;
  gap: 12px; padding: 0 16px; }
.logo { font-weight: 650; } .shop { margin-left: auto; }
.mark { display: inline-block; width: 22px; height: 22px; border-radius: 6px; background: #95bf47;
  color: #fff; text-align: center; line-height: 22px; margin-right: 4px; }
.sandbox { background: #ffd6a4; color: #4a2d00; border-radius: 8px; padding: 0 8px; font-size: 12px; }
.admin { display: flex; height: calc(100vh - 56px); }
nav { width: 200px; padding: 12px 8px; display: flex; flex-direction: column; gap: 2px; }
nav a { padding: 6px 10px; border-radius: 8px; color: #303030; }
nav a.current { background: #fff; font-weight: 650; }
nav .apps { margin: 12px 10px 4px; color: #616161; font-size: 12px; font-weight: 650; }
main { flex: 1; padding: 0 8px 8px 0; }
iframe { width: 100%; height: 100%; border: 0; border-radius: 12px; background: #fff;
  box-shadow: 0 1px 0 rgba(26,26,26,.07); }
"""


def _page(title: str, body: str, status: int = 200) -> Response:
    document = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}'
        f"</title><style>{STYLE}</style></head><body>{body}</body></html>"
    )
    return Response(document, status=status, mimetype="text/html")
