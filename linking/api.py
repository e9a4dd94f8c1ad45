"""HTTP API for plans: create and edit a batch configuration, dry run it, read the match
statistics, the full result and the report (thin: rules in services, reads in selectors)."""

from __future__ import annotations

import io

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from linking import selectors, services
from linking.core import LinkMode
from linking.models import AltSource, Plan
from stores import selectors as store_selectors
from stores.principals import ApiKeyPrincipal


class PlanInputSerializer(serializers.Serializer):
    """A plan's configuration; omitted fields take the workspace's Setup defaults."""

    asset_ids = serializers.ListField(child=serializers.CharField(), required=False)
    expression = serializers.CharField(required=False, allow_blank=True)
    stores = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Shop domains or store ids."
    )
    cloudinary_field = serializers.CharField(required=False, help_text="e.g. metadata:sku")
    separator = serializers.CharField(required=False, allow_blank=True, max_length=5)
    case_sensitive = serializers.BooleanField(required=False)
    shopify_field = serializers.CharField(required=False, help_text="e.g. variant.sku")
    link_mode = serializers.ChoiceField(choices=[m.value for m in LinkMode], required=False)
    position = serializers.IntegerField(required=False, allow_null=True, help_text="1-based")
    order_field = serializers.CharField(required=False, allow_blank=True)
    manual_orders = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False
    )
    excluded_asset_ids = serializers.ListField(child=serializers.CharField(), required=False)
    excluded_groups = serializers.ListField(child=serializers.CharField(), required=False)
    alt_source = serializers.ChoiceField(choices=AltSource.choices, required=False)
    alt_field = serializers.CharField(required=False, allow_blank=True, max_length=512)
    alt_overrides = serializers.DictField(child=serializers.CharField(), required=False)
    assign_variant_images = serializers.BooleanField(required=False)
    image_transformation = serializers.CharField(
        required=False, allow_blank=True, help_text="Admins only."
    )
    file_transformation = serializers.CharField(
        required=False, allow_blank=True, help_text="Admins only."
    )


class PlanSerializer(serializers.ModelSerializer):
    stores = serializers.SlugRelatedField(many=True, read_only=True, slug_field="shop_domain")
    link_mode = serializers.ChoiceField(choices=[m.value for m in LinkMode], read_only=True)

    class Meta:
        model = Plan
        fields = [
            "id",
            "workspace",
            "status",
            "created_at",
            "updated_at",
            "dry_run_at",
            *services.CONFIG_FIELDS,
            "assets_resolved",
            "unresolved_asset_ids",
            "error",
        ]
        read_only_fields = fields


_STORE_SUMMARY_FIELDS = {
    "store": serializers.CharField(),
    "catalog_path": serializers.ChoiceField(["search", "index"]),
    "catalog_reason": serializers.CharField(),
    "galleries_path": serializers.ChoiceField(["nodes", "bulk"]),
    "statistics": serializers.DictField(),
    "products_changed": serializers.IntegerField(),
    "operations": serializers.IntegerField(),
    "shopify_points": serializers.FloatField(),
    "shopify_calls": serializers.IntegerField(),
    "error": serializers.CharField(),
}

PlanSummarySerializer = inline_serializer(
    "PlanSummary",
    {
        "assets": serializers.IntegerField(),
        "groups": serializers.IntegerField(),
        "products": serializers.IntegerField(),
        "operations": serializers.IntegerField(),
        "unresolved_asset_ids": serializers.ListField(child=serializers.CharField()),
        "button": serializers.CharField(),
        "stores": inline_serializer("PlanStoreSummary", _STORE_SUMMARY_FIELDS, many=True),
    },
)


class PlanStoreResultSerializer(serializers.Serializer):
    store = serializers.CharField(source="store.shop_domain")
    catalog_path = serializers.CharField()
    catalog_reason = serializers.CharField()
    galleries_path = serializers.CharField()
    statistics = serializers.DictField()
    groups = serializers.ListField(child=serializers.DictField(), help_text="Per group its match.")
    products = serializers.ListField(
        child=serializers.DictField(),
        help_text="Per product: before/after gallery (media ids, asset ids, thumbnail URLs), "
        "operations, warnings.",
    )
    rows = serializers.ListField(child=serializers.DictField(), help_text="Per asset its fate.")
    shopify_points = serializers.FloatField()
    shopify_calls = serializers.IntegerField()
    error = serializers.CharField()


def _input(request) -> dict:
    if not isinstance(request.data, dict):
        raise serializers.ValidationError({"detail": "Send a JSON object of plan fields."})
    unknown = sorted(set(request.data) - set(PlanInputSerializer().fields))
    if unknown:
        raise serializers.ValidationError(
            {
                name: [f"Unknown plan field; use {', '.join(services.CONFIG_FIELDS)}."]
                for name in unknown
            }
        )
    serializer = PlanInputSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _store_scope(request):
    if isinstance(request.user, ApiKeyPrincipal):
        return store_selectors.stores_for_request(request)
    return None


def _user(request):
    return request.user


def _field_errors(call):
    """Run a service; a PlanConfigError becomes a 400 naming the field (DRF's shape)."""
    try:
        return call()
    except services.PlanConfigError as exc:
        raise serializers.ValidationError({exc.field: [exc.message]}) from None


def _plan(request, plan_id: int) -> Plan:
    return get_object_or_404(selectors.plans_for_request(request), pk=plan_id)


class PlanListView(APIView):
    @extend_schema(responses=PlanSerializer(many=True))
    def get(self, request, workspace_id: int):
        workspace = get_object_or_404(
            store_selectors.workspaces_for_request(request), pk=workspace_id
        )
        plans = selectors.plans_for_request(request).filter(workspace=workspace)
        return Response(PlanSerializer(plans.prefetch_related("stores")[:100], many=True).data)

    @extend_schema(request=PlanInputSerializer, responses={201: PlanSerializer})
    def post(self, request, workspace_id: int):
        workspace = get_object_or_404(
            store_selectors.workspaces_for_request(request), pk=workspace_id
        )
        data = _input(request)
        plan = _field_errors(
            lambda: services.plan_create(
                user=_user(request),
                workspace=workspace,
                data=data,
                store_scope=_store_scope(request),
            )
        )
        return Response(PlanSerializer(plan).data, status=status.HTTP_201_CREATED)


class PlanDetailView(APIView):
    @extend_schema(responses=PlanSerializer)
    def get(self, request, plan_id: int):
        return Response(PlanSerializer(_plan(request, plan_id)).data)

    @extend_schema(request=PlanInputSerializer, responses=PlanSerializer)
    def patch(self, request, plan_id: int):
        plan = _plan(request, plan_id)
        data = _input(request)
        plan = _field_errors(
            lambda: services.plan_update(
                user=_user(request), plan=plan, data=data, store_scope=_store_scope(request)
            )
        )
        return Response(PlanSerializer(plan).data)


class PlanDryRunView(APIView):
    @extend_schema(
        request=None,
        responses=PlanSummarySerializer,
        description="Read the selection from Cloudinary and every selected store's matching "
        "products and galleries from Shopify, and compute the complete plan. Writes nothing "
        "to Shopify.",
    )
    def post(self, request, plan_id: int):
        plan = _plan(request, plan_id)
        plan = _field_errors(lambda: services.plan_dry_run(plan=plan))
        return Response(selectors.plan_summary(plan))


class PlanStatisticsView(APIView):
    @extend_schema(
        responses=PlanSummarySerializer,
        description="Match statistics per store (products matched, groups matched, groups "
        "unmatched, products matched by several groups) and the plan's totals.",
    )
    def get(self, request, plan_id: int):
        return Response(selectors.plan_summary(_plan(request, plan_id)))


class PlanResultView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("store", str, description="Only this shop domain.")],
        responses=PlanStoreResultSerializer(many=True),
    )
    def get(self, request, plan_id: int):
        plan = _plan(request, plan_id)
        results = selectors.plan_results(plan, request.query_params.get("store"))
        return Response(PlanStoreResultSerializer(results, many=True).data)


class PlanReportView(APIView):
    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request, plan_id: int):
        plan = _plan(request, plan_id)
        out = io.StringIO()
        selectors.write_report_csv(plan, out)
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="plan-{plan.pk}-dry-run.csv"'
        return response


class MatchInputSerializer(serializers.Serializer):
    stores = serializers.ListField(child=serializers.CharField(), help_text="Shop domains or ids.")
    shopify_field = serializers.CharField(help_text="e.g. variant.sku")
    case_sensitive = serializers.BooleanField(required=False, default=False)
    groups = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField(), allow_empty=True),
        help_text="Group value → the asset ids of the group (the page's kept groups).",
    )


_MATCH_STORE = inline_serializer(
    "MatchStore",
    {
        "store": serializers.CharField(),
        "statistics": serializers.DictField(help_text="As the dry run's statistics."),
        "groups": serializers.DictField(
            child=serializers.IntegerField(), help_text="Group value → products matched."
        ),
        "catalog_path": serializers.CharField(),
        "error": serializers.CharField(),
    },
    many=True,
)


class MatchCountsView(APIView):
    @extend_schema(
        request=MatchInputSerializer,
        responses=inline_serializer(
            "MatchCounts",
            {
                "assets": serializers.IntegerField(),
                "groups": serializers.IntegerField(),
                "products": serializers.IntegerField(),
                "button": serializers.CharField(),
                "stores": _MATCH_STORE,
            },
        ),
        description="Live match counts: per store the products each group value matches, "
        "through the store's catalog index (no gallery read, nothing written). The totals "
        "count groups matched in any store and their assets, and products over every store.",
    )
    def post(self, request, workspace_id: int):
        workspace = get_object_or_404(
            store_selectors.workspaces_for_request(request), pk=workspace_id
        )
        data = MatchInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        groups = data.validated_data["groups"]
        stores = _field_errors(
            lambda: services.match_counts(
                workspace=workspace,
                stores=data.validated_data["stores"],
                shopify_field=data.validated_data["shopify_field"],
                values=list(groups),
                case_sensitive=data.validated_data["case_sensitive"],
                store_scope=_store_scope(request),
            )
        )
        matched = {v for s in stores for v, n in s["groups"].items() if n}
        assets = {a for value in matched for a in groups.get(value, ())}
        products = sum(s["statistics"].get("products_matched", 0) for s in stores)
        return Response(
            {
                "assets": len(assets),
                "groups": len(matched),
                "products": products,
                "button": selectors.link_button(len(assets), len(matched), products),
                "stores": stores,
            }
        )
