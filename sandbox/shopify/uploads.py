"""Byte-serving routes: the staged-upload target, the file CDN, bulk operation results."""

from __future__ import annotations

import json

from werkzeug.wrappers import Request, Response

from . import media
from .state import State


def _err(status: int, message: str) -> Response:
    return Response(json.dumps({"errors": message}), status=status, mimetype="application/json")


def staged(state: State, request: Request, token: str, filename: str | None) -> Response:
    """PUT raw bytes (or POST multipart `file` + the returned parameters); GET serves them."""
    with state.lock:
        target = state.staged.get(token)
    if target is None:
        return Response(
            "<?xml version='1.0' encoding='UTF-8'?><Error><Code>NoSuchUpload</Code></Error>",
            status=404,
            mimetype="application/xml",
        )
    if request.method in ("GET", "HEAD"):
        if target.get("content") is None:
            return Response("NoSuchKey", status=404)
        return Response(target["content"], mimetype=target["mime_type"])
    if request.method == "PUT":
        if request.args.get("signature") != target["signature"]:
            return Response(
                "<Error><Code>SignatureDoesNotMatch</Code></Error>",
                status=403,
                mimetype="application/xml",
            )
        content = request.get_data()
    else:
        if request.form.get("signature") != target["signature"]:
            return Response(
                "<Error><Code>SignatureDoesNotMatch</Code></Error>",
                status=403,
                mimetype="application/xml",
            )
        upload = request.files.get("file")
        if upload is None:
            return Response("<Error><Code>MissingFile</Code></Error>", status=400)
        content = upload.read()
    with state.lock:
        target["content"] = content
        if request.content_type and request.method == "PUT":
            target["mime_type"] = request.content_type
    return Response(status=201 if request.method == "POST" else 200)


def cdn(state: State, request: Request, shop: str, file_id: int) -> Response:
    with state.lock:
        s = state.shops.get(shop)
        f = s.files.get(file_id) if s else None
        if f is not None and f.content is None and f.placeholder and f.status == "READY":
            f.content = media.placeholder_png(*f.placeholder)
            f.size = len(f.content)
        if f is None or f.content is None or f.status != "READY":
            return _err(404, "Not Found")
        return Response(f.content, mimetype=f.mime_type or "application/octet-stream")


def bulk_result(state: State, shop: str, op_id: int) -> Response:
    with state.lock:
        s = state.shops.get(shop)
        op = s.bulk_ops.get(op_id) if s else None
        if op is None or op.data is None:
            return _err(404, "Not Found")
        return Response(op.data, mimetype="application/jsonl")
