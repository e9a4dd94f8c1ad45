"""HTTP API for plans: create and edit a batch configuration, dry run it, read the match
statistics, the full result and the report (thin: rules in services, reads in selectors)."""

from __future__ import annotations

from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from assetlink_project.api_input import ChoiceWithOldSpellings, validated_body
from assetlink_project.errors import InputError
from common.alt_text import ALT_SOURCE_CHOICES, OLD_ALT_SOURCE_SPELLINGS
from common.link_modes import LINK_MODE_CHOICES
from linking import dry_runs, runs, selectors, services, store_choice
from linking.models import DryRun, Plan
from reports.api import (
    RunSerializer,
    StoresInputSerializer,
    _run,
    _service,
    _user,
    chosen_stores,
    run_json,
)
from reports.engine import run_progress
from stores import permissions
from stores import selectors as store_selectors
from stores.models import MAX_POSITION

_TEXT = 300  # the longest field reference or order field a plan stores


class PlanInputSerializer(serializers.Serializer):
    """A plan's configuration; omitted fields take the workspace's Setup defaults."""

    asset_ids = serializers.ListField(child=serializers.CharField(max_length=255), required=False)
    expression = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    stores = serializers.ListField(
        child=serializers.CharField(max_length=255),
        required=False,
        max_length=1000,
        help_text="Shop domains or store ids.",
    )
    cloudinary_field = serializers.CharField(
        required=False, max_length=_TEXT, help_text="e.g. metadata:sku"
    )
    separator = serializers.CharField(required=False, allow_blank=True, max_length=5)
    case_sensitive = serializers.BooleanField(required=False)
    shopify_field = serializers.CharField(
        required=False, max_length=200, help_text="e.g. variant.sku"
    )
    link_mode = serializers.ChoiceField(choices=LINK_MODE_CHOICES, required=False)
    position = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_POSITION,
        error_messages={
            "min_value": "Positions start at 1 (the first image).",
            "max_value": f"Use a position from 1 to {MAX_POSITION}: a product holds at most "
            f"{MAX_POSITION} media, and a position past the end of a gallery appends.",
        },
        help_text=f"1-based, at most {MAX_POSITION}",
    )
    order_field = serializers.CharField(required=False, allow_blank=True, max_length=_TEXT)
    manual_orders = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField(max_length=255)), required=False
    )
    excluded_asset_ids = serializers.ListField(
        child=serializers.CharField(max_length=255), required=False
    )
    excluded_groups = serializers.ListField(child=serializers.CharField(), required=False)
    alt_source = ChoiceWithOldSpellings(
        ALT_SOURCE_CHOICES, old_spellings=OLD_ALT_SOURCE_SPELLINGS, required=False
    )
    alt_field = serializers.CharField(required=False, allow_blank=True, max_length=512)
    alt_overrides = serializers.DictField(child=serializers.CharField(), required=False)
    assign_variant_images = serializers.BooleanField(required=False)
    image_transformation = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text="Admins only."
    )
    file_transformation = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text="Admins only."
    )


class PlanSerializer(serializers.ModelSerializer):
    stores = serializers.SerializerMethodField(help_text="Shop domains (those the caller reaches).")
    link_mode = serializers.ChoiceField(choices=LINK_MODE_CHOICES, read_only=True)

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

    def get_stores(self, plan) -> list[str]:
        scope = store_selectors.stores_for_request(self.context["request"])
        return list(plan.stores.filter(pk__in=scope).values_list("shop_domain", flat=True))


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
    store = serializers.CharField()
    catalog_path = serializers.CharField()
    catalog_reason = serializers.CharField()
    galleries_path = serializers.CharField()
    statistics = serializers.DictField()
    product_count = serializers.IntegerField(help_text="Products planned in this store.")
    products_changed = serializers.IntegerField()
    operations = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    products = serializers.ListField(
        child=serializers.DictField(),
        help_text="This page's products: before/after gallery (media ids, asset ids, thumbnail "
        "URLs), operations, warnings.",
    )
    groups = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="With include=groups: per group its match.",
    )
    rows = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="With include=rows: the report rows of this page's products, then those of "
        "no planned product (unmatched, excluded, unresolved).",
    )
    shopify_points = serializers.FloatField()
    shopify_calls = serializers.IntegerField()
    error = serializers.CharField()


DRY_RUN_JOB_FIELDS = {
    "status": serializers.ChoiceField(DryRun.Status.choices),
    "phase": serializers.CharField(),
    "stores": serializers.DictField(
        child=serializers.CharField(), help_text="Shop domain → what is happening there."
    ),
    "stores_done": serializers.IntegerField(),
    "stores_total": serializers.IntegerField(),
    "cancel_requested": serializers.BooleanField(),
    "created_at": serializers.DateTimeField(),
    "started_at": serializers.DateTimeField(allow_null=True),
    "finished_at": serializers.DateTimeField(allow_null=True),
    "error": serializers.CharField(),
}
"""A dry run job's progress (linking.dry_runs.job_json): plans' and upload batches'."""

DryRunSerializer = inline_serializer(
    "DryRun",
    {"id": serializers.IntegerField(), "plan": serializers.IntegerField(), **DRY_RUN_JOB_FIELDS},
)


def _input(request) -> dict:
    return validated_body(request, PlanInputSerializer, noun="plan")


def _field_errors(call):
    """Run a service; an InputError (a PlanConfigError, say) becomes a 400 naming the field
    (DRF's shape)."""
    try:
        return call()
    except InputError as exc:
        raise serializers.ValidationError({exc.field: [exc.message]}) from None


def _plan(request, plan_id: int) -> Plan:
    return get_object_or_404(selectors.plans_for_request(request), pk=plan_id)


def _plan_to_change(request, plan_id: int) -> Plan:
    """A plan the request may edit or dry run: every one of its stores within its reach."""
    plan = _plan(request, plan_id)
    permissions.require_within_reach(
        request.user,
        store_selectors.request_scope(request),
        plan.stores.all(),
        action="change or dry run this plan",
    )
    return plan


def _dry_run_json(request, dry_run) -> dict:
    return dry_runs.dry_run_json(dry_run, reach=store_selectors.stores_for_request(request))


def _serialize(request, plan):
    return PlanSerializer(plan, context={"request": request}).data


def _listed(request, plans) -> list[dict]:
    """`plans` as PlanSerializer shows them, read as rows (reads: no model instance and no
    serializer field per plan; the JSON is the same)."""
    return selectors.plans_listed(
        plans, PlanSerializer.Meta.fields, store_selectors.stores_for_request(request)
    )


class PlanListView(APIView):
    @extend_schema(responses=PlanSerializer(many=True))
    def get(self, request, workspace_id: int):
        plans = selectors.plans_for_request(request).filter(workspace_id=workspace_id)
        plans = plans.filter(delta_of__isnull=True)  # a sync rule's own plans are in its history
        listed = _listed(request, plans[:100])
        return Response(store_selectors.of_reachable_workspace(request, workspace_id, listed))

    @extend_schema(request=PlanInputSerializer, responses={201: PlanSerializer})
    def post(self, request, workspace_id: int):
        workspace = get_object_or_404(
            store_selectors.workspaces_for_request(request), pk=workspace_id
        )
        data = _input(request)
        plan = _field_errors(
            lambda: services.plan_create(
                user=request.user,
                workspace=workspace,
                data=data,
                store_scope=store_selectors.stores_for_request(request),
            )
        )
        return Response(_serialize(request, plan), status=status.HTTP_201_CREATED)


class PlanDetailView(APIView):
    @extend_schema(responses=PlanSerializer)
    def get(self, request, plan_id: int):
        found = _listed(request, selectors.plans_for_request(request).filter(pk=plan_id))
        if not found:
            raise Http404("No Plan matches the given query.")
        return Response(found[0])

    @extend_schema(request=PlanInputSerializer, responses=PlanSerializer)
    def patch(self, request, plan_id: int):
        plan = _plan_to_change(request, plan_id)
        data = _input(request)
        plan = _field_errors(
            lambda: services.plan_update(
                user=request.user,
                plan=plan,
                data=data,
                store_scope=store_selectors.stores_for_request(request),
            )
        )
        return Response(_serialize(request, plan))


def _latest_dry_run(plan: Plan) -> DryRun:
    dry_run = dry_runs.latest(plan)
    if dry_run is None:
        raise Http404("This plan has no dry run yet.")
    return dry_run


class PlanDryRunView(APIView):
    @extend_schema(
        request=None,
        responses={202: DryRunSerializer},
        description="Start a dry run in the background (or answer the one already queued or "
        "running): it reads the selection from Cloudinary and every selected store's matching "
        "products and galleries from Shopify (stores in parallel), and computes the complete "
        "plan. Writes nothing to Shopify. Follow it with GET; when it has `succeeded`, read "
        "`statistics/`, `result/` and `report.csv`.",
    )
    def post(self, request, plan_id: int):
        plan = _plan_to_change(request, plan_id)
        dry_run = dry_runs.dry_run_start(plan=plan, user=_user(request))
        return Response(_dry_run_json(request, dry_run), status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        responses=DryRunSerializer,
        description="The plan's latest dry run and its progress (404 before the first).",
    )
    def get(self, request, plan_id: int):
        return Response(_dry_run_json(request, _latest_dry_run(_plan(request, plan_id))))


class PlanDryRunCancelView(APIView):
    @extend_schema(
        request=None,
        responses=DryRunSerializer,
        description="Cancel the plan's queued or running dry run (the previous result stays).",
    )
    def post(self, request, plan_id: int):
        dry_run = _latest_dry_run(_plan_to_change(request, plan_id))
        return Response(_dry_run_json(request, dry_runs.dry_run_cancel(dry_run=dry_run)))


class PlanStatisticsView(APIView):
    @extend_schema(
        responses=PlanSummarySerializer,
        description="Match statistics per store (products matched, groups matched, groups "
        "unmatched, products matched by several groups) and the plan's totals.",
    )
    def get(self, request, plan_id: int):
        # The columns the summary reads only (not the plan's selection, orders or overrides:
        # JSON that grows with the plan).
        plans = selectors.plans_for_request(request).only(*selectors.SUMMARY_PLAN_FIELDS)
        plan = get_object_or_404(plans, pk=plan_id)
        return Response(selectors.plan_summary(plan, store_selectors.stores_for_request(request)))


def _positive(request, name: str, default: int) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    if not text.isdigit() or int(text) < 1:
        raise serializers.ValidationError({name: ["Give a whole number from 1."]})
    return int(text)


class PlanResultView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("store", str, description="Only this shop domain."),
            OpenApiParameter("page", int, description="Page of products (from 1)."),
            OpenApiParameter(
                "page_size",
                int,
                description=f"Products per page (default {selectors.RESULT_PAGE_SIZE}, at most "
                f"{selectors.RESULT_MAX_PAGE_SIZE}).",
            ),
            OpenApiParameter(
                "include", str, description="Comma-separated: groups, rows (each store's)."
            ),
        ],
        responses=PlanStoreResultSerializer(many=True),
    )
    def get(self, request, plan_id: int):
        plan = _plan(request, plan_id)
        include = frozenset(
            part for part in (request.query_params.get("include") or "").split(",") if part
        )
        unknown = include - {"groups", "rows"}
        if unknown:
            raise serializers.ValidationError({"include": ["Use groups, rows or both."]})
        results = selectors.plan_result_page(
            plan,
            store=request.query_params.get("store"),
            scope=store_selectors.stores_for_request(request),
            page=_positive(request, "page", 1),
            page_size=_positive(request, "page_size", selectors.RESULT_PAGE_SIZE),
            include=include,
        )
        return Response(results)


class PlanReportView(APIView):
    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request, plan_id: int):
        plan = _plan(request, plan_id)
        response = StreamingHttpResponse(
            selectors.report_lines(plan, store_selectors.stores_for_request(request)),
            content_type="text/csv; charset=utf-8",
        )
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
                store_scope=store_selectors.stores_for_request(request),
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


class PlanRunView(APIView):
    @extend_schema(
        summary="Run a plan (after its dry run): one run per store, queued",
        request=StoresInputSerializer,
        responses={202: RunSerializer},
    )
    def post(self, request, plan_id: int):
        plan = get_object_or_404(selectors.plans_for_request(request), pk=plan_id)
        started = []
        for store in chosen_stores(request, plan.stores.all(), f"plan {plan.pk}"):
            started.append(
                _service(
                    lambda s=store: runs.run_start_from_plan(
                        plan=plan, store=s, user=_user(request)
                    )
                )
            )
        return Response([run_progress(r) for r in started], status=status.HTTP_202_ACCEPTED)


class RunRetryView(APIView):
    @extend_schema(
        summary="Retry a link run's failed products as a new run of the same plan",
        request=None,
        responses={202: RunSerializer},
    )
    def post(self, request, run_id: int):
        run = _service(
            lambda: runs.run_retry_failed(run=_run(request, run_id), user=_user(request))
        )
        return Response(run_json(run), status=status.HTTP_202_ACCEPTED)


class LinkStoreChoiceSerializer(serializers.Serializer):
    stores = serializers.ListField(
        child=serializers.CharField(max_length=255),
        max_length=1000,
        allow_empty=True,
        help_text="Shop domains (or store ids) ticked on the Link tab; empty: none.",
    )


class LinkStoreChoiceView(APIView):
    """The stores the caller last ticked on the Link tab of a workspace (none by default)."""

    @extend_schema(responses=LinkStoreChoiceSerializer)
    def get(self, request, workspace_id: int):
        workspace = get_object_or_404(
            store_selectors.workspaces_for_request(request), pk=workspace_id
        )
        stores = store_choice.link_store_choice(
            user=request.user,
            workspace=workspace,
            reach=store_selectors.stores_for_request(request),
        )
        return Response({"stores": [s.shop_domain for s in stores]})

    @extend_schema(request=LinkStoreChoiceSerializer, responses=LinkStoreChoiceSerializer)
    def put(self, request, workspace_id: int):
        workspace = get_object_or_404(
            store_selectors.workspaces_for_request(request), pk=workspace_id
        )
        body = validated_body(request, LinkStoreChoiceSerializer, noun="store choice")
        stores = store_choice.link_store_choice_set(
            user=request.user,
            workspace=workspace,
            stores=body["stores"],
            reach=store_selectors.stores_for_request(request),
        )
        return Response({"stores": [s.shop_domain for s in stores]})
