"""HTTP API of Manage links: list what AssetLink linked, unlink it, re-link it to the newest
version (thin: reads and rules in :mod:`linking.manage`; every action is a link run)."""

from __future__ import annotations

import re

from django.db.models import Q
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from assetlink_project.api_input import validated_body
from assetlink_project.errors import NotFoundError
from linking import manage
from reports.api import RunSerializer, _user, run_json
from stores import selectors as store_selectors

_IDS = {"max_length": 5000, "required": False}
# A group value is a Cloudinary field's value: longer than an id (Shopify metafields and
# Cloudinary metadata hold far more than 255 characters).
MAX_GROUP_VALUE = 5000
_STORE_ID = re.compile(r"[0-9]{1,9}")


class LinkSelectionSerializer(serializers.Serializer):
    stores = serializers.ListField(
        child=serializers.CharField(max_length=255), required=False, max_length=1000,
        help_text="Shop domains or store ids; omitted: every store of the workspace you reach.",
    )  # fmt: skip
    media_ids = serializers.ListField(child=serializers.CharField(max_length=100), **_IDS)
    product_ids = serializers.ListField(child=serializers.CharField(max_length=100), **_IDS)
    asset_ids = serializers.ListField(child=serializers.CharField(max_length=64), **_IDS)
    groups = serializers.ListField(
        child=serializers.CharField(max_length=MAX_GROUP_VALUE), **_IDS,
        help_text="Group values (e.g. SKUs): the links of the assets grouped under them.",
    )  # fmt: skip
    all = serializers.BooleanField(
        required=False, default=False,
        help_text="Every link of the stores (required when no other filter is given).",
    )  # fmt: skip


LinkSerializer = inline_serializer(
    "Link",
    {
        "id": serializers.IntegerField(),
        "store": serializers.CharField(),
        "kind": serializers.ChoiceField(["product_media", "file"]),
        "product_id": serializers.CharField(),
        "product_handle": serializers.CharField(),
        "product_title": serializers.CharField(),
        "media_id": serializers.CharField(),
        "asset_id": serializers.CharField(),
        "version": serializers.IntegerField(),
        "latest_version": serializers.IntegerField(allow_null=True),
        "transformation": serializers.CharField(),
        "alt": serializers.CharField(allow_null=True),
        "status": serializers.ChoiceField(["linked", "current", "outdated", "asset_missing"]),
        "run": serializers.IntegerField(allow_null=True),
        "plan": serializers.IntegerField(allow_null=True),
        "linked_at": serializers.DateTimeField(),
    },
)
LinksSerializer = inline_serializer(
    "Links",
    {
        "count": serializers.IntegerField(help_text="Links matching, of which at most 500 shown."),
        "stores": serializers.DictField(child=serializers.IntegerField()),
        "links": serializers.ListField(child=LinkSerializer),
    },
)
StartedSerializer = inline_serializer(
    "LinkActionRuns",
    {
        "runs": serializers.ListField(child=RunSerializer),
        "notes": serializers.ListField(child=serializers.CharField()),
    },
)


def _workspace(request, workspace_id: int):
    return get_object_or_404(store_selectors.workspaces_for_request(request), pk=workspace_id)


def _stores(request, workspace, wanted=()):
    """The workspace's stores within the caller's reach; a named store outside it is a 404, as
    if it did not exist."""
    stores = store_selectors.stores_for_request(request).filter(workspace=workspace)
    wanted = [str(w) for w in wanted or ()]
    if not wanted:
        return stores
    ids = [int(w) for w in wanted if _STORE_ID.fullmatch(w)]
    stores = stores.filter(Q(shop_domain__in=wanted) | Q(pk__in=ids))
    known = {str(s.pk) for s in stores} | {s.shop_domain for s in stores}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise NotFoundError(f"{len(unknown)} of the stores named are not found in this workspace.")
    return stores


def _group_values(request) -> list[str]:
    """``group``, repeated for several (``?group=A,B-01&group=SP-01``): each value whole, since
    a group value may hold a comma."""
    values = [v.strip() for v in request.query_params.getlist("group") if v.strip()]
    if len(values) > 5000 or any(len(v) > MAX_GROUP_VALUE or "\x00" in v for v in values):
        raise serializers.ValidationError(
            {"group": [f"Give at most 5,000 group values of at most {MAX_GROUP_VALUE:,} "
                       "characters (repeat group= for several)."]}
        )  # fmt: skip
    return values


def _csv(request, name: str) -> list[str]:
    values = [v.strip() for v in (request.query_params.get(name) or "").split(",") if v.strip()]
    if len(values) > 5000 or any(len(v) > 255 or "\x00" in v for v in values):
        raise serializers.ValidationError(
            {name: ["Give at most 5,000 comma-separated values of at most 255 characters."]}
        )
    return values


class LinkListView(APIView):
    @extend_schema(
        operation_id="links_list",
        summary="What AssetLink linked: per store, product or asset, in every store you reach",
        parameters=[
            OpenApiParameter("store", str, description="Shop domains or ids (comma-separated)."),
            OpenApiParameter("product_id", str, description="Product gids (comma-separated)."),
            OpenApiParameter("asset_id", str, description="Cloudinary asset ids (comma-separated)."),
            OpenApiParameter("media_id", str, description="Shopify media ids (comma-separated)."),
            OpenApiParameter(
                "group", str,
                description="A group value, e.g. a SKU, taken whole (a comma is part of it); "
                "repeat group= for several: the links of the assets the linking plan grouped "
                "under them.",
                many=True,
            ),
            OpenApiParameter(
                "check_versions", bool,
                description="Read each asset's newest version from Cloudinary (status current, "
                "outdated or asset_missing).",
            ),
        ],
        responses=LinksSerializer,
    )  # fmt: skip
    def get(self, request, workspace_id: int):
        workspace = _workspace(request, workspace_id)
        records = manage.links_of(
            _stores(request, workspace, _csv(request, "store")),
            product_ids=_csv(request, "product_id"),
            asset_ids=_csv(request, "asset_id"),
            media_ids=_csv(request, "media_id"),
            groups=_group_values(request),
        )
        check = (request.query_params.get("check_versions") or "").lower() in ("1", "true", "yes")
        return Response(manage.links_listing(records, workspace=workspace, check_versions=check))


class _LinkActionView(APIView):
    action_name = ""

    def post(self, request, workspace_id: int):
        workspace = _workspace(request, workspace_id)
        data = validated_body(request, LinkSelectionSerializer, noun="link selection")
        selection = manage.LinkSelection(
            media_ids=data.get("media_ids") or (),
            product_ids=data.get("product_ids") or (),
            asset_ids=data.get("asset_ids") or (),
            groups=data.get("groups") or (),
            all=data.get("all", False),
        )
        start = manage.unlink_start if self.action_name == manage.UNLINK else manage.relink_start
        started = start(
            workspace=workspace,
            stores=_stores(request, workspace, data.get("stores")),
            selection=selection,
            user=_user(request),
        )
        return Response(
            {"runs": [run_json(r) for r in started.runs], "notes": started.notes},
            status=status.HTTP_202_ACCEPTED,
        )


class LinkUnlinkView(_LinkActionView):
    action_name = manage.UNLINK

    @extend_schema(
        summary="Unlink links (one, several, a product's, an asset's or all): a run per store",
        description="Each store's selected media leave their products in a link run (report, "
        "undo). Files stay in Files unless Setup's delete_unreferenced_created_files is on. "
        "Give media_ids, product_ids, asset_ids or groups (combined), or all: true.",
        request=LinkSelectionSerializer,
        responses={202: StartedSerializer},
    )
    def post(self, request, workspace_id: int):
        return super().post(request, workspace_id)


class LinkRelinkView(_LinkActionView):
    action_name = manage.RELINK

    @extend_schema(
        summary="Re-link links to their asset's newest version, in place: a run per store",
        description="The newest version's media takes the old media's place (position, alt "
        "text, variant images), created and READY before the old one is unlinked. Links "
        "already current, or of assets Cloudinary no longer has, are left alone (notes).",
        request=LinkSelectionSerializer,
        responses={202: StartedSerializer},
    )
    def post(self, request, workspace_id: int):
        return super().post(request, workspace_id)
