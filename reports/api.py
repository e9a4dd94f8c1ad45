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

from assetlink_project.errors import ApplicationError
from reports import csv as report_csv
from reports import engine, selectors
from reports.models import Run
from reports.registry import abort_run, undo_run

RunSerializer = inline_serializer(
    "RunProgress",
    {
        "id": serializers.IntegerField(),
        "store": serializers.CharField(),
        "kind": serializers.CharField(),
        "status": serializers.CharField(),
        "phase": serializers.CharField(),
        "ops_done": serializers.IntegerField(),
        "ops_total": serializers.IntegerField(),
        "products_done": serializers.IntegerField(),
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
        "summary": serializers.DictField(),
        "error": serializers.CharField(),
        "undo_of": serializers.IntegerField(allow_null=True),
    },
)


class StoresInputSerializer(serializers.Serializer):
    stores = serializers.ListField(
        child=serializers.CharField(max_length=255),
        required=False,
        max_length=1000,
        help_text="Shop domains or store ids; omitted: every store the caller reaches.",
    )


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
            OpenApiParameter("status", str),
        ],
        responses=RunSerializer,
    )
    def get(self, request):
        qs = selectors.runs_for_request(request)
        if request.query_params.get("store"):
            qs = qs.filter(store__shop_domain=request.query_params["store"])
        if request.query_params.get("status"):
            qs = qs.filter(status=request.query_params["status"])
        return Response([engine.run_progress(r) for r in qs[:100]])


class RunDetailView(APIView):
    @extend_schema(
        operation_id="runs_retrieve",
        summary="A run's progress (live while it runs)",
        responses=RunSerializer,
    )
    def get(self, request, run_id: int):
        return Response(engine.run_progress(_run(request, run_id)))


class RunAbortView(APIView):
    @extend_schema(
        summary="Stop at the next product boundary", request=None, responses=RunSerializer
    )
    def post(self, request, run_id: int):
        run = _service(lambda: abort_run(run=_run(request, run_id)))
        return Response(engine.run_progress(run), status=status.HTTP_202_ACCEPTED)


class RunResumeView(APIView):
    @extend_schema(
        summary="Go on with a run whose worker died", request=None, responses=RunSerializer
    )
    def post(self, request, run_id: int):
        run = _service(lambda: engine.run_resume(run=_run(request, run_id)))
        return Response(engine.run_progress(run), status=status.HTTP_202_ACCEPTED)


class RunUndoView(APIView):
    @extend_schema(
        summary="Revert a run (itself a run)", request=None, responses={202: RunSerializer}
    )
    def post(self, request, run_id: int):
        run = _service(lambda: undo_run(run=_run(request, run_id), user=_user(request)))
        return Response(engine.run_progress(run), status=status.HTTP_202_ACCEPTED)


class RunReportView(APIView):
    @extend_schema(
        summary="The run's report as CSV", responses={(200, "text/csv"): OpenApiTypes.STR}
    )
    def get(self, request, run_id: int):
        run = _run(request, run_id)
        response = StreamingHttpResponse(report_csv.report_lines(run), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{report_csv.filename(run)}"'
        return response
