"""HTTP API of link runs: start a plan's runs, follow their progress, abort, resume, undo,
and download the report (thin: rules in linking.runs, reads in reports.selectors)."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from assetlink_project.api_input import validated_body
from assetlink_project.errors import ApplicationError
from reports import csv as report_csv
from reports import engine, selectors
from reports.failures import explain
from reports.models import ReportRow, Run
from reports.registry import abort_run, undo_run
from stores import principals
from stores import selectors as store_selectors

ROW_FIELDS = (
    "product_id", "product_handle", "product_title", "group", "asset_id", "public_id", "action",
    "position_before", "position_after", "media_id", "previous_media_id", "status", "error_code",
    "message",
)  # fmt: skip
ROWS_LIMIT = 500
ACTION_FILTER = OpenApiParameter(
    "action", str, description="Only rows of these actions (comma-separated), e.g. failed."
)


def actions_param(request) -> list[str]:
    return [a for a in (request.query_params.get("action") or "").split(",") if a]


def timings_field() -> serializers.DictField:
    """Run.timings in the API schema (reports.timings)."""
    return serializers.DictField(
        allow_null=True,
        help_text="Where the run's time went (null until a worker ran it): `seconds`, `phases` "
        "(seconds per phase shown), `shopify_http_seconds`, `shopify_throttle_wait_seconds`, "
        "`database_seconds`, `database_queries`, `attempts`; summed over a resumed run's "
        "attempts.",
    )


PROGRESS_FIELDS = {  # what engine.progress_json gives: a run's progress (every kind)
    "id": serializers.IntegerField(),
    "store": serializers.CharField(),
    "kind": serializers.CharField(),
    "status": serializers.CharField(),
    "phase": serializers.CharField(),
    "ops_done": serializers.IntegerField(help_text="Operations done (an upload: assets)."),
    "ops_total": serializers.IntegerField(),
    "products_done": serializers.IntegerField(help_text="Products done (an upload: assets)."),
    "products_total": serializers.IntegerField(),
    "failures": serializers.IntegerField(),
    "calls": serializers.IntegerField(),
    "points_requested": serializers.IntegerField(),
    "points_actual": serializers.IntegerField(),
    "throttled": serializers.IntegerField(),
    "eta_seconds": serializers.FloatField(allow_null=True),
    "abort_requested": serializers.BooleanField(),
    "started_at": serializers.DateTimeField(allow_null=True),
    "finished_at": serializers.DateTimeField(allow_null=True),
    "summary": serializers.DictField(help_text="Report rows per action."),
    "error": serializers.CharField(),
    "undo_of": serializers.IntegerField(allow_null=True),
}
_RUN_FIELDS = {  # run_json: the progress and what the Runs tab shows of a run
    **PROGRESS_FIELDS,
    "created_by": serializers.CharField(allow_null=True),
    "created_at": serializers.DateTimeField(),
    "link_mode": serializers.CharField(),
    "plan": serializers.IntegerField(allow_null=True),
    "duration_seconds": serializers.FloatField(allow_null=True),
    "can_retry": serializers.BooleanField(),
}
RunSerializer = inline_serializer("RunProgress", _RUN_FIELDS)
RunDetailSerializer = inline_serializer(
    "RunDetail",
    {
        **_RUN_FIELDS,
        "timings": timings_field(),
    },
)


def run_detail_json(run: Run) -> dict:
    """A run's progress and where its time went (the detail; lists leave timings out)."""
    return {**run_json(run), "timings": run.timings}


RunRowsSerializer = inline_serializer(
    "RunRows",
    {
        "count": serializers.IntegerField(help_text="Rows matching, of which at most 500 shown."),
        "rows": serializers.ListField(
            child=serializers.DictField(),
            help_text="Report rows; failed rows add `human` and `what_to_do`.",
        ),
    },
)


def run_json(run: Run) -> dict:
    """A run's progress plus who started it, its mode, plan and duration (the Runs tab)."""
    engine.run_progress(run)  # the live progress of a running run, applied to `run`
    return run_row_json(
        {
            **engine.run_values(run),
            "created_by__username": run.created_by.get_username() if run.created_by else None,
            "api_key__label": run.api_key.label if run.api_key else None,
            "api_key__prefix": run.api_key.prefix if run.api_key else None,
            "created_at": run.created_at,
            "link_mode": run.link_mode,
            "plan": run.plan_id,
        }
    )


def run_row_json(values) -> dict:
    """run_json from `values` (a mapping of selectors.RUN_ROW_VALUES, the live progress
    applied): the Runs list reads rows, not a model instance per run."""
    data = engine.progress_json(values)
    end, started = values["finished_at"], values["started_at"]
    data.update(
        created_by=principals.started_by_name(
            values["created_by__username"], values["api_key__label"], values["api_key__prefix"]
        ),
        created_at=values["created_at"],
        link_mode=values["link_mode"],
        plan=values["plan"],
        duration_seconds=(end - started).total_seconds() if end and started else None,
        can_retry=values["kind"] == Run.Kind.LINK
        and values["status"] not in Run.ACTIVE
        and values["plan"] is not None
        and bool(values["failures"]),
    )
    return data


class StoresInputSerializer(serializers.Serializer):
    stores = serializers.ListField(
        child=serializers.CharField(max_length=255),
        required=False,
        allow_empty=False,
        max_length=1000,
        error_messages={
            "empty": "Name at least one store, or leave `stores` out for every store you reach."
        },
        help_text="Shop domains or store ids; omitted: every store the caller reaches. A store "
        "that is not one of them is a 400 naming it.",
    )


def chosen_stores(request, stores, of: str) -> list:
    """The stores a run request names (``StoresInputSerializer``'s body), of ``stores`` (the
    plan's or batch's) the caller reaches, by shop domain or id; omitted, every one of them.
    A store that is not one of them (unknown, another workspace's, out of the caller's reach)
    is a 400 naming it — the same answer whichever, so nothing is revealed."""
    wanted = validated_body(request, StoresInputSerializer).get("stores")
    reachable = list(
        stores.filter(pk__in=store_selectors.stores_for_request(request)).order_by("shop_domain")
    )
    if wanted is None:
        return reachable
    by_ref = {ref: s for s in reachable for ref in (s.shop_domain, str(s.pk))}
    missing = [ref for ref in wanted if ref.strip().lower() not in by_ref]
    if missing:
        raise serializers.ValidationError(
            {"stores": [f"{ref} is not one of {of}'s stores you can reach." for ref in missing]}
        )
    picked = {by_ref[ref.strip().lower()].pk for ref in wanted}
    return [s for s in reachable if s.pk in picked]


def _run(request, run_id: int) -> Run:
    return get_object_or_404(selectors.runs_for_request(request), pk=run_id)


def _user(request):
    return request.user if getattr(request.user, "is_authenticated", False) else None


def _service(call):
    try:
        return call()
    except ApplicationError as exc:
        raise serializers.ValidationError({"detail": exc.message}) from None


class RunListView(APIView):
    @extend_schema(
        operation_id="runs_list",
        summary="Runs, newest first",
        parameters=[
            OpenApiParameter("store", str, description="Shop domain."),
            OpenApiParameter("status", str, enum=Run.Status.values),
            OpenApiParameter("kind", str, enum=Run.Kind.values),
        ],
        responses=RunSerializer,
    )
    def get(self, request):
        qs = selectors.runs_for_request(request)
        params = request.query_params
        for name, choices in (("status", Run.Status.values), ("kind", Run.Kind.values)):
            if params.get(name) and params[name] not in choices:
                raise serializers.ValidationError({name: [f"Use one of {', '.join(choices)}."]})
        if params.get("store"):
            qs = qs.filter(store__shop_domain=params["store"])
        if params.get("status"):
            qs = qs.filter(status=params["status"])
        if params.get("kind"):
            qs = qs.filter(kind=params["kind"])
        rows = qs.values(*selectors.RUN_ROW_VALUES)[:100]
        return Response([run_row_json(engine.row_progress(row)) for row in rows])


class RunDetailView(APIView):
    @extend_schema(
        operation_id="runs_retrieve",
        summary="A run's progress (live while it runs) and where its time went",
        responses=RunDetailSerializer,
    )
    def get(self, request, run_id: int):
        return Response(run_detail_json(_run(request, run_id)))


class RunAbortView(APIView):
    @extend_schema(
        summary="Stop at the next product boundary", request=None, responses=RunSerializer
    )
    def post(self, request, run_id: int):
        run = _service(lambda: abort_run(run=_run(request, run_id)))
        return Response(run_json(run), status=status.HTTP_202_ACCEPTED)


class RunResumeView(APIView):
    @extend_schema(
        summary="Go on with a run whose worker died", request=None, responses=RunSerializer
    )
    def post(self, request, run_id: int):
        run = _service(lambda: engine.run_resume(run=_run(request, run_id)))
        return Response(run_json(run), status=status.HTTP_202_ACCEPTED)


class RunUndoView(APIView):
    @extend_schema(
        summary="Revert a run (itself a run)", request=None, responses={202: RunSerializer}
    )
    def post(self, request, run_id: int):
        run = _service(lambda: undo_run(run=_run(request, run_id), user=_user(request)))
        return Response(run_json(run), status=status.HTTP_202_ACCEPTED)


class RunReportView(APIView):
    @extend_schema(
        summary="The run's report as CSV", responses={(200, "text/csv"): OpenApiTypes.STR}
    )
    def get(self, request, run_id: int):
        run = _run(request, run_id)
        response = StreamingHttpResponse(report_csv.report_lines(run), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{report_csv.filename(run)}"'
        return response


class RunRowsView(APIView):
    @extend_schema(
        summary="The run's report rows (e.g. ?action=failed for its failures table)",
        parameters=[ACTION_FILTER],
        responses=RunRowsSerializer,
    )
    def get(self, request, run_id: int):
        run = _run(request, run_id)
        qs = ReportRow.objects.filter(run=run)
        actions = actions_param(request)
        if actions:
            qs = qs.filter(action__in=actions)
        rows = []
        for row in qs.values(*ROW_FIELDS)[:ROWS_LIMIT]:
            if row["action"] == "failed":
                row.update(explain(row["error_code"], row["message"]))
            rows.append(row)
        return Response({"count": qs.count(), "rows": rows})
