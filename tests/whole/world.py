"""The world a whole-product sequence runs in: a Cloudinary cloud and Shopify shops of the
emulators, a workspace with its stores, and the people who act on it — each through a public
surface: the HTTP API as a logged-in admin, as a shop's staff with a Shopify session token,
as automation with an API key; real RQ workers run what they start."""

from __future__ import annotations

import itertools
import threading
import uuid
from types import SimpleNamespace

import django_rq
import requests
from django.conf import settings
from rest_framework.test import APIClient
from rq import SimpleWorker

from stores import services as store_services
from tests.factories import MemberFactory, StoreFactory, WorkspaceFactory
from tests.linking.plans.conftest import ThreadWorker
from tests.stores.helpers import session_token
from tests.whole.model import CloudAsset
from tests.whole.shop_view import read_shop

_numbers = itertools.count(1)


class Principal:
    """One caller of the API: how it authenticates, and what it reaches."""

    def __init__(self, name: str, client: APIClient, store=None, headers=None):
        self.name, self.client, self.store = name, client, store
        self._headers = headers or (lambda: {})

    def __repr__(self) -> str:
        return self.name

    def _call(self, method: str, path: str, body=None):
        return getattr(self.client, method)(path, body, format="json", **self._headers())

    def post(self, path: str, body=None):
        return self._call("post", path, body if body is not None else {})

    def get(self, path: str, params=None):
        return self.client.get(path, params or {}, **self._headers())


class World:
    def __init__(self, cloudinary_url: str, shopify_url: str, queue, app_url: str, *, stores=2):
        self.cloudinary_url, self.shopify_url, self.queue = cloudinary_url, shopify_url, queue
        self.app_url = app_url  # the app served (live_server): Shopify's webhooks come there
        n = next(_numbers)
        self.cloud = f"whole-{uuid.uuid4().hex[:8]}-{n}"
        r = requests.post(
            f"{cloudinary_url}/_control/clouds",
            json={"cloud_name": self.cloud, "api_key": "k-" + self.cloud,
                  "api_secret": "s-" + self.cloud, "seed": {"n_assets": 16, "seed": 3}},
            timeout=10,
        )  # fmt: skip
        r.raise_for_status()
        self.workspace = WorkspaceFactory(
            cloudinary_cloud_name=self.cloud,
            cloudinary_api_key="k-" + self.cloud,
            cloudinary_api_secret="s-" + self.cloud,
        )
        self.reader_tokens: dict[str, str] = {}
        skus = self.control_cloud("skus", method="get")["skus"]
        self.stores = [self._shop(len(skus) - 1) for _ in range(stores)]
        admin = MemberFactory(workspace=self.workspace, role="master_admin").user
        self.admin_user = admin
        login = APIClient()
        login.force_login(admin)
        self.principals = [Principal("login:admin", login)]
        for store in self.stores:
            self.principals.append(self._session_principal(store))
        for store in self.stores:
            self.principals.append(self.api_key_principal(store))

    # --- principals --------------------------------------------------------------------

    def _session_principal(self, store) -> Principal:
        sub = str(next(_numbers))

        def headers():
            token = session_token(store.shop_domain, sub=sub, jti=uuid.uuid4().hex)
            return {"HTTP_AUTHORIZATION": f"Bearer {token}"}

        return Principal(f"session:{store.shop_domain}", APIClient(), store, headers)

    def api_key_principal(self, store) -> Principal:
        _, token = store_services.api_key_create(user=self.admin_user, store=store, label="ci")
        # As docs/api.md's recipes send it: `Authorization: Bearer $KEY`.
        return Principal(
            f"api_key:{store.shop_domain}", APIClient(), store,
            lambda: {"HTTP_AUTHORIZATION": f"Bearer {token}"},
        )  # fmt: skip

    # --- installs ----------------------------------------------------------------------

    def uninstall(self, domain: str) -> None:
        """The merchant removes the app: Shopify revokes its token and sends the signed
        `app/uninstalled` webhook to the app."""
        r = requests.post(
            f"{self.shopify_url}/_control/webhooks",
            json={"shop": domain, "topic": "app/uninstalled",
                  "address": self.app_url + "/shopify/webhooks"},
            timeout=20,
        )  # fmt: skip
        r.raise_for_status()
        assert r.json()["status_code"] == 200, r.json()
        store = next(s for s in self.stores if s.shop_domain == domain)
        store.refresh_from_db()
        assert not store.is_installed and not store.access_token

    def reinstall(self, domain: str) -> Principal:
        """The merchant installs the app again (the grant OAuth's callback gets); the store's
        old API key stays revoked: answers the principal of a new key, in the old one's place."""
        fresh = self.control_shop(f"shops/{domain}/token")
        grant = SimpleNamespace(access_token=fresh["access_token"], scope=fresh["scope"],
                                expires_at=None, refresh_token="", refresh_token_expires_at=None)  # fmt: skip
        store = next(s for s in self.stores if s.shop_domain == domain)
        again = store_services.store_install(shop_domain=domain, grant=grant)
        assert (again.pk, again.workspace_id) == (store.pk, store.workspace_id)
        store.refresh_from_db()
        assert store.is_installed
        self.reader_tokens[domain] = self.control_shop(f"shops/{domain}/token")["access_token"]
        new = self.api_key_principal(store)
        at = next(i for i, p in enumerate(self.principals) if p.name == new.name)
        self.principals[at] = new
        return new

    # --- the emulators -----------------------------------------------------------------

    def _shop(self, products: int):
        domain = f"whole-{uuid.uuid4().hex[:8]}.myshopify.com"
        r = requests.post(
            f"{self.shopify_url}/_control/shops", json={"domain": domain, "token": True},
            timeout=10,
        )  # fmt: skip
        r.raise_for_status()
        token = r.json()["token"]["access_token"]
        # The test reads the shop with a token of its own (as another app of the shop would).
        self.reader_tokens[domain] = self.control_shop(f"shops/{domain}/token")["access_token"]
        r = requests.post(
            f"{self.shopify_url}/_control/shops/{domain}/seed",
            json={"products": products, "media_per_product": 2, "sku_pattern": "SKU-{n:05d}"},
            timeout=10,
        )
        r.raise_for_status()
        return StoreFactory(workspace=self.workspace, shop_domain=domain, access_token=token)

    def control_cloud(self, path: str, body=None, method: str = "post") -> dict:
        r = requests.request(
            method,
            f"{self.cloudinary_url}/_control/clouds/{self.cloud}/{path}",
            json=body,
            timeout=10,
        )
        r.raise_for_status()
        return r.json()

    def control_shop(self, path: str, body=None, method: str = "post"):
        r = requests.request(
            method, f"{self.shopify_url}/_control/{path}", json=body or {}, timeout=10
        )
        r.raise_for_status()
        return r.json()

    def library(self) -> dict[str, CloudAsset]:
        assets = self.control_cloud("assets?limit=1000", method="get")["assets"]
        return {a["asset_id"]: CloudAsset.of(a) for a in assets}

    def read(self, store):
        store.refresh_from_db()
        return read_shop(store.shop_domain, self.token_of(store))

    def token_of(self, store) -> str:
        return self.reader_tokens[store.shop_domain]

    def queues(self) -> list:
        """Every queue a job of this world can be on (dry runs, link runs, uploads, …), all on
        the test's own Redis database."""
        names = dict.fromkeys([self.queue.name, *settings.RQ_QUEUES])
        return [django_rq.get_queue(n) for n in names]

    def work(self) -> None:
        """Real RQ workers (burst) until no queue holds a job: a job may enqueue another."""
        queues = self.queues()
        while any(q.count for q in queues):
            SimpleWorker(queues, connection=self.queue.connection).work(
                burst=True, with_scheduler=False
            )

    def worker_thread(self) -> threading.Thread:
        """A worker in a thread of its own, working while the test acts (e.g. aborts)."""
        queues = self.queues()
        thread = threading.Thread(
            target=lambda: ThreadWorker(queues, connection=self.queue.connection).work(
                burst=True, with_scheduler=False
            )
        )
        thread.start()
        return thread
