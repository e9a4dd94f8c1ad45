"""An in-memory Shopify for the executors' unit tests: it keeps products' galleries and the
store's files and answers the operations the link executor sends, as the Admin API does
(``productUpdate(media:)`` appends in order and reports bad items by index; ``fileUpdate``
with userErrors changes nothing; unlinking keeps the file in Files).

Faults are scripted per operation name with :meth:`FakeShopify.fail`: userErrors (by input
index, or for the whole call), an error raised before the call runs, or an answer lost after
it ran (``ShopifyUnavailable(maybe_applied=True)``)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from linking.core import GalleryItem, LinkRecord, ProductState
from stores.shopify.client import Result, _user_errors
from stores.shopify.cost import CallCost, ThrottleBucket
from stores.shopify.errors import ShopifyUnavailable


@dataclass
class File:
    id: str
    source: str = ""
    alt: str = ""
    status: str = "READY"
    products: set[str] = field(default_factory=set)


@dataclass
class Fault:
    user_errors: list[tuple[int | None, str | None, str]] = field(default_factory=list)
    """(input index or None for the whole call, code, message)."""
    raises: Exception | None = None
    """Raised instead of running the call."""
    lost: bool = False
    """The call runs, then its answer is lost (a 5xx after the effect)."""


class FakeShopify:
    """Duck-types the parts of ``ShopifyClient`` the executors use (``execute``, ``bucket``)."""

    def __init__(self):
        self.galleries: dict[str, list[str]] = {}
        self.files: dict[str, File] = {}
        self.calls: list[tuple[str, dict]] = []
        self.bucket = ThrottleBucket(sleep=lambda s: None)
        self._faults: dict[str, list[Fault]] = {}
        self._ids = itertools.count(1000)

    # --- set up and inspect -------------------------------------------------------------------

    def product(self, product_id: str, media: int = 0, alt: str = "") -> list[str]:
        ids = [self._new_file(f"https://cdn.example/{product_id}/{n}", alt) for n in range(media)]
        for media_id in ids:
            self.files[media_id].products.add(product_id)
        self.galleries[product_id] = ids
        return list(ids)

    def fail(self, operation: str, *faults: Fault) -> None:
        """The next calls of ``operation`` (by name) meet these faults, one per call."""
        self._faults.setdefault(operation, []).extend(faults)

    def unmet_faults(self) -> dict[str, list[Fault]]:
        """Scripted faults no call met (a test whose fault never fired proves nothing)."""
        return {name: queue for name, queue in self._faults.items() if queue}

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def state(self, product_id: str, records: dict[str, LinkRecord] | None = None):
        records = records or {}
        return ProductState(
            product_id,
            tuple(
                GalleryItem(m, self.files[m].status, self.files[m].alt, "IMAGE", records.get(m))
                for m in self.galleries[product_id]
            ),
        )

    # --- the API ------------------------------------------------------------------------------

    def execute(self, operation, variables=None, *, raise_user_errors=False):
        variables = variables or {}
        self.calls.append((operation.name, variables))
        queue = self._faults.get(operation.name) or []
        fault = queue.pop(0) if queue else Fault()
        if fault.raises is not None:
            raise fault.raises
        handler = getattr(self, f"_{operation.name}")
        data = handler(variables, fault)
        if fault.lost:
            raise ShopifyUnavailable(
                "Shopify answered 502", cause="http_502", attempts=1, maybe_applied=True
            )
        cost = CallCost(None, None, None)
        result = Result(operation.name, data, cost, _user_errors(operation, data))
        if raise_user_errors:
            result.raise_for_user_errors()
        return result

    def _RunAddMedia(self, variables, fault):  # noqa: N802 - named after the operation
        product_id = variables["product"]["id"]
        bad = {i: (code, message) for i, code, message in fault.user_errors if i is not None}
        whole = [(code, message) for i, code, message in fault.user_errors if i is None]
        errors = [
            {"field": ["media", str(i), "originalSource"], "message": m}
            for i, (_, m) in bad.items()
        ] + [{"field": None, "message": m} for _, m in whole]
        if not whole:
            for i, spec in enumerate(variables["media"]):
                if i not in bad:
                    media_id = self._new_file(spec["originalSource"], spec.get("alt") or "")
                    self.files[media_id].status = "UPLOADED"  # processed by the next status read
                    self.files[media_id].products.add(product_id)
                    self.galleries[product_id].append(media_id)
        last = self.galleries[product_id][-variables["last"] :] if variables["last"] else []
        nodes = [{"id": m, "status": self.files[m].status} for m in last]
        product = {"id": product_id, "media": {"nodes": nodes}}
        return {"productUpdate": {"product": product, "userErrors": errors}}

    def _RunMediaStatus(self, variables, fault):  # noqa: N802
        for media_id in variables["ids"]:
            if media_id in self.files:
                self.files[media_id].status = "READY"
        nodes = [
            {"id": m, "status": self.files[m].status} if m in self.files else None
            for m in variables["ids"]
        ]
        return {"nodes": nodes}

    def _file_update(self, variables, fault):
        errors = [
            {"field": ["files", str(i), "id"] if i is not None else None, "code": code,
             "message": message}
            for i, code, message in fault.user_errors
        ]  # fmt: skip
        specs = variables["files"]
        for i, spec in enumerate(specs):
            if spec["id"] not in self.files:
                errors.append(
                    {"field": ["files", str(i), "id"], "code": "FILE_DOES_NOT_EXIST",
                     "message": "File does not exist."}
                )  # fmt: skip
        if errors:  # a call with userErrors changes nothing
            return {"fileUpdate": {"files": [], "userErrors": errors}}
        for spec in specs:
            file = self.files[spec["id"]]
            if "alt" in spec:
                file.alt = spec["alt"]
            for product_id in spec.get("referencesToRemove") or ():
                if spec["id"] in self.galleries[product_id]:
                    self.galleries[product_id].remove(spec["id"])
                file.products.discard(product_id)
            for product_id in spec.get("referencesToAdd") or ():
                if spec["id"] not in self.galleries[product_id]:
                    self.galleries[product_id].append(spec["id"])
                file.products.add(product_id)
        files = [{"id": spec["id"]} for spec in specs]
        return {"fileUpdate": {"files": files, "userErrors": []}}

    def _ProductReorderMedia(self, variables, fault):  # noqa: N802
        gallery = self.galleries[variables["id"]]
        errors = [{"code": c, "field": None, "message": m} for _, c, m in fault.user_errors]
        if not errors:
            for move in variables["moves"]:
                gallery.remove(move["id"])
                gallery.insert(min(int(move["newPosition"]), len(gallery)), move["id"])
        job = None if errors else {"id": f"gid://shopify/Job/{next(self._ids)}", "done": True}
        return {"productReorderMedia": {"job": job, "mediaUserErrors": errors}}

    def _JobStatus(self, variables, fault):  # noqa: N802
        return {"job": {"id": variables["id"], "done": True}}

    def _FileDelete(self, variables, fault):  # noqa: N802
        deleted = []
        for file_id in variables["fileIds"]:
            file = self.files.pop(file_id, None)
            if file is None:
                continue
            for product_id in file.products:
                self.galleries[product_id].remove(file_id)
            deleted.append(file_id)
        return {"fileDelete": {"deletedFileIds": deleted, "userErrors": []}}

    # --- Files (uploads) ---------------------------------------------------------------------

    def _FileCreate(self, variables, fault):  # noqa: N802
        errors = [
            {"field": ["files", str(i), "originalSource"] if i is not None else None,
             "code": code, "message": message}
            for i, code, message in fault.user_errors
        ]  # fmt: skip
        if errors:  # fileCreate with userErrors creates nothing
            return {"fileCreate": {"files": [], "userErrors": errors}}
        created = []
        for spec in variables["files"]:
            file_id = self._new_file(spec["originalSource"], spec.get("alt") or "")
            self.files[file_id].status = "UPLOADED"
            created.append(self._file_node(self.files[file_id]))
        return {"fileCreate": {"files": created, "userErrors": []}}

    def _FileUpdate(self, variables, fault):  # noqa: N802
        data = self._file_update(variables, fault)["fileUpdate"]
        if not data["userErrors"]:
            for spec in variables["files"]:
                if "originalSource" in spec:  # a new version: processed again
                    self.files[spec["id"]].source = spec["originalSource"]
                    self.files[spec["id"]].status = "UPLOADED"
            data["files"] = [self._file_node(self.files[spec["id"]]) for spec in variables["files"]]
        return {"fileUpdate": data}

    def _UploadFilesStatus(self, variables, fault):  # noqa: N802
        nodes = []
        for file_id in variables["ids"]:
            file = self.files.get(file_id)
            if file is not None and file.status == "UPLOADED":  # processing ends by now
                file.status = "FAILED" if "broken" in file.source else "READY"
            nodes.append(self._file_node(file) if file else None)
        return {"nodes": nodes}

    def _UploadFilesReady(self, variables, fault):  # noqa: N802
        """The READY poll: status and alt text only (URLs and errors are not asked for)."""
        nodes = self._UploadFilesStatus(variables, fault)["nodes"]
        return {"nodes": [n and {k: n[k] for k in ("id", "alt", "fileStatus")} for n in nodes]}

    def _FilesSearch(self, variables, fault):  # noqa: N802
        """Newest first; the ``created_at`` filter is not applied (a superset: callers must
        pick their file by something unique, as they must with Shopify)."""
        nodes = [self._file_node(f) for f in reversed(self.files.values())]
        page = {"hasNextPage": False, "endCursor": None}
        return {"files": {"nodes": nodes, "pageInfo": page}}

    @staticmethod
    def _file_node(file: File) -> dict:
        errors = [{"code": "PROCESSING_FAILED", "message": "broken image"}]
        return {
            "id": file.id,
            "alt": file.alt,
            "fileStatus": file.status,
            "fileErrors": errors if file.status == "FAILED" else [],
            "image": {"url": f"https://cdn.shopify.example/{file.id.rsplit('/', 1)[-1]}.jpg"},
        }

    def _new_file(self, source: str, alt: str) -> str:
        media_id = f"gid://shopify/MediaImage/{next(self._ids)}"
        self.files[media_id] = File(media_id, source, alt)
        return media_id
