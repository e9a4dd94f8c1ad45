"""The page's built-in asset picker and the Cloudinary reads the pages need: browse assets by
search expression / folder / tags with thumbnails, preview the groups of a selection, the
workspace's metadata fields, an AI caption for one asset, and Setup's "test connection".

Members of the workspace only (404 otherwise). Thin: Cloudinary goes through
`stores.cloudinary`, grouping and ordering through `linking.core`.
"""

from __future__ import annotations

import re

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from assetlink_project.errors import NotFoundError
from common.fields import GroupingOptions, core_asset, parse_field_ref
from linking.core import FieldError, SwatchRule, group_assets, is_swatch, order_assets
from linking.services import order_field_ref
from stores import selectors, services
from stores.cloudinary import CloudinaryClient
from stores.cloudinary.assets import asset_from_resource
from stores.models import Workspace

THUMBNAIL = "c_fill,w_160,h_160"
_QUOTE_RE = re.compile(r'["\\]')


def _workspace(request, workspace_id: int) -> Workspace:
    return get_object_or_404(selectors.workspaces_for_request(request), pk=workspace_id)


def _quote(value: str) -> str:
    return '"' + _QUOTE_RE.sub(lambda m: "\\" + m.group(0), value.strip()) + '"'


def picker_expression(*, expression: str = "", folder: str = "", tags: str = "") -> str:
    """One Search expression from the picker's three inputs (each optional, AND-ed)."""
    parts = []
    if expression.strip():
        parts.append(f"({expression.strip()})")
    if folder.strip():
        folder = folder.strip().strip("/")
        parts.append(f"(asset_folder={_quote(folder)} OR folder={_quote(folder)})")
    for tag in (t for t in re.split(r"[,\s]+", tags or "") if t):
        parts.append(f"tags={_quote(tag)}")
    return " AND ".join(parts)


def asset_json(client: CloudinaryClient, asset, swatch_rule: SwatchRule | None = None) -> dict:
    data = {
        "asset_id": asset.asset_id,
        "public_id": asset.public_id,
        "resource_type": asset.resource_type,
        "format": asset.format,
        "version": asset.version,
        "width": asset.width,
        "height": asset.height,
        "folder": asset.asset_folder or asset.folder,
        "filename": asset.filename,
        "tags": list(asset.tags),
        "context": asset.context,
        "metadata": asset.metadata,
        "thumbnail_url": client.delivery_url(asset, transformation=THUMBNAIL, format="jpg"),
    }
    if swatch_rule is not None:
        data["swatch"] = is_swatch(core_asset(asset), swatch_rule)
    return data


def _client(workspace: Workspace) -> CloudinaryClient:
    return CloudinaryClient.for_workspace(workspace)


class AssetSearchView(APIView):
    """One page of assets for the picker (Search API pages of up to 500, `next_cursor`)."""

    @extend_schema(
        responses=inline_serializer(
            "PickerPage",
            {
                "expression": serializers.CharField(),
                "total_count": serializers.IntegerField(),
                "next_cursor": serializers.CharField(allow_null=True),
                "assets": serializers.ListField(child=serializers.DictField()),
            },
        )
    )
    def get(self, request, workspace_id: int):
        workspace = _workspace(request, workspace_id)
        q = request.query_params
        expression = picker_expression(
            expression=q.get("expression", ""), folder=q.get("folder", ""), tags=q.get("tags", "")
        )
        client = _client(workspace)
        schema = client.metadata_schema()
        page = client.search_page(expression, q.get("cursor") or None)
        assets = [asset_from_resource(r, schema) for r in page.get("resources") or ()]
        return Response(
            {
                "expression": expression,
                "total_count": int(page.get("total_count") or 0),
                "next_cursor": page.get("next_cursor"),
                "assets": [asset_json(client, a) for a in assets],
            }
        )


class SelectionInput(serializers.Serializer):
    asset_ids = serializers.ListField(child=serializers.CharField(), required=False)
    expression = serializers.CharField(required=False, allow_blank=True)
    cloudinary_field = serializers.CharField()
    separator = serializers.CharField(required=False, allow_blank=True, max_length=5)
    case_sensitive = serializers.BooleanField(required=False, default=False)
    order_field = serializers.CharField(required=False, allow_blank=True)


class SelectionGroupsView(APIView):
    """The groups of a selection under a Cloudinary field, each in its order-field order: what
    the Link tab's asset list shows before any dry run (exclusions and manual order are the
    page's edits, sent with the plan)."""

    @extend_schema(
        request=SelectionInput,
        responses=inline_serializer(
            "SelectionGroups",
            {
                "groups": serializers.ListField(child=serializers.DictField()),
                "ungrouped": serializers.ListField(child=serializers.DictField()),
                "missing_ids": serializers.ListField(child=serializers.CharField()),
                "asset_count": serializers.IntegerField(),
            },
        ),
    )
    def post(self, request, workspace_id: int):
        workspace = _workspace(request, workspace_id)
        data = SelectionInput(data=request.data)
        data.is_valid(raise_exception=True)
        data = data.validated_data
        setup = services.settings_for(workspace)
        try:
            field_ref = parse_field_ref(data["cloudinary_field"])
            order_ref = order_field_ref(data.get("order_field", ""))
        except FieldError as exc:
            raise serializers.ValidationError({"cloudinary_field": [str(exc)]}) from None
        client = _client(workspace)
        if data.get("asset_ids"):
            resolution = client.resolve(asset_ids=data["asset_ids"], limit=setup.batch_size_limit)
        elif (data.get("expression") or "").strip():
            resolution = client.resolve(
                expression=data["expression"].strip(), limit=setup.batch_size_limit
            )
        else:
            raise serializers.ValidationError(
                {"asset_ids": ["The selection is empty: pick assets or search first."]}
            )
        rule = SwatchRule(
            setup.swatch_metadata_field or None,
            setup.swatch_metadata_value or None,
            setup.swatch_tag or None,
        )
        by_id = {a.asset_id: a for a in resolution.assets}
        grouping = group_assets(
            [core_asset(a) for a in resolution.assets],
            GroupingOptions(field_ref, data.get("separator") or None, data["case_sensitive"]),
        )

        def as_json(core_assets):
            return [asset_json(client, by_id[a.asset_id], rule) for a in core_assets]

        groups = [
            {
                "key": g.key,
                "value": g.value,
                "assets": as_json(order_assets(g.assets, order_ref)),
            }
            for g in grouping.groups
        ]
        return Response(
            {
                "groups": groups,
                "ungrouped": as_json(grouping.ungrouped),
                "missing_ids": resolution.missing_ids,
                "asset_count": len(resolution.assets),
            }
        )


class MetadataFieldsView(APIView):
    @extend_schema(
        responses=inline_serializer(
            "MetadataField",
            {
                "external_id": serializers.CharField(),
                "label": serializers.CharField(),
                "type": serializers.CharField(),
            },
            many=True,
        )
    )
    def get(self, request, workspace_id: int):
        workspace = _workspace(request, workspace_id)
        schema = _client(workspace).metadata_schema()
        return Response(
            [
                {"external_id": f.external_id, "label": f.label, "type": f.type}
                for f in schema.fields.values()
            ]
        )


class CaptionView(APIView):
    """Cloudinary's AI caption of one asset (cached per version) for the alt text box."""

    @extend_schema(
        request=None, responses=inline_serializer("Caption", {"caption": serializers.CharField()})
    )
    def post(self, request, workspace_id: int, asset_id: str):
        workspace = _workspace(request, workspace_id)
        client = _client(workspace)
        resolution = client.resolve_asset_ids([asset_id])
        if not resolution.assets:
            raise NotFoundError(f"Cloudinary has no asset {asset_id}.")
        caption = services.asset_caption(cloudinary=client, asset=resolution.assets[0])
        return Response({"caption": caption})


class TestConnectionView(APIView):
    @extend_schema(
        request=None,
        responses=inline_serializer(
            "ConnectionCheck",
            {
                "ok": serializers.BooleanField(),
                "problem": serializers.CharField(),
                "message": serializers.CharField(),
            },
        ),
    )
    def post(self, request, workspace_id: int):
        workspace = _workspace(request, workspace_id)
        check = _client(workspace).test_connection()
        return Response({"ok": check.ok, "problem": check.problem, "message": check.message})
