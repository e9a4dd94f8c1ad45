"""HTTP API of Upload to Store Files: create a batch, dry run it (a background job), start it (one run per store),
follow, abort or resume a run, download its report (thin: rules in services/runs, reads in
selectors)."""

from __future__ import annotations

from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from assetlink_project.api_input import ChoiceWithOldSpellings, validated_body
from assetlink_project.errors import InputError
from common.alt_text import ALT_SOURCE_CHOICES, OLD_ALT_SOURCE_SPELLINGS
from linking.api import DRY_RUN_JOB_FIELDS
from reports import engine
from reports.api import (
    ACTION_FILTER,
    PROGRESS_FIELDS,
    StoresInputSerializer,
    actions_param,
    chosen_stores,
    timings_field,
)
from stores import selectors as store_selectors
from uploads import dry_runs, runs, selectors, services
from uploads.models import UploadDryRun


class UploadBatchInputSerializer(serializers.Serializer):
    """A batch; omitted fields take the workspace's Setup defaults."""

    asset_ids = serializers.ListField(child=serializers.CharField(max_length=255), required=False)
    expression = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    stores = serializers.ListField(
        child=serializers.CharField(max_length=255), max_length=1000, help_text="Domains or ids."
    )
    alt_source = ChoiceWithOldSpellings(
        ALT_SOURCE_CHOICES, old_spellings=OLD_ALT_SOURCE_SPELLINGS, required=False
    )
    alt_field = serializers.CharField(required=False, allow_blank=True, max_length=512)
    alt_overrides = serializers.DictField(child=serializers.CharField(), required=False)
    transformation = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="Admins only: overrides Setup's default.",
    )


RunSerializer = inline_serializer("UploadRunProgress", PROGRESS_FIELDS)
RunListSerializer = inline_serializer("UploadRunProgressList", PROGRESS_FIELDS, many=True)
RunDetailSerializer = inline_serializer(
    "UploadRunDetail", {**PROGRESS_FIELDS, "timings": timings_field()}
)

_BATCH_FIELDS = {
    "id": serializers.IntegerField(),
    "status": serializers.CharField(),
    "workspace": serializers.IntegerField(),
    "asset_ids": serializers.ListField(child=serializers.CharField()),
    "expression": serializers.CharField(),
    "stores": serializers.ListField(child=serializers.CharField()),
    "alt_source": serializers.CharField(),
    "alt_field": serializers.CharField(),
    "transformation": serializers.CharField(),
    "assets": serializers.IntegerField(),
    "unresolved_asset_ids": serializers.ListField(child=serializers.CharField()),
    "dry_run_at": serializers.DateTimeField(allow_null=True),
    "dry_run": serializers.DictField(
        help_text="Per store: counts per action (created/reused/replaced/failed) and a "
        "row per asset (filename, source URL, alt, file id)."
    ),
    "runs": RunListSerializer,
    "error": serializers.CharField(),
}
BatchSerializer = inline_serializer("UploadBatch", _BATCH_FIELDS)
BatchListSerializer = inline_serializer(
    "UploadBatchList",
    {
        **_BATCH_FIELDS,
        "dry_run": serializers.DictField(
            help_text="Per store: counts per action; the rows are in the batch's detail."
        ),
    },
    many=True,
)


def _call(fn):
    try:
        return fn()
    except InputError as exc:
        raise serializers.ValidationError({exc.extra["field"]: [exc.message]}) from None
    except runs.RunError as exc:
        raise serializers.ValidationError({"detail": exc.message}) from None


def _batch(request, batch_id: int):
    return get_object_or_404(selectors.batches_for_request(request), pk=batch_id)


def _run(request, run_id: int):
    return get_object_or_404(selectors.upload_runs_for_request(request), pk=run_id)


def _summaries(request, batches, *, rows: bool = True) -> list[dict]:
    scope = store_selectors.stores_for_request(request)
    return selectors.batches_summarized(batches, scope, rows=rows)


def _summary(request, batch_id: int) -> dict:
    found = _summaries(request, selectors.batches_for_request(request).filter(pk=batch_id))
    if not found:
        raise Http404("No UploadBatch matches the given query.")
    return found[0]


class UploadBatchListView(APIView):
    @extend_schema(
        summary="Upload batches of a workspace, newest first", responses=BatchListSerializer
    )
    def get(self, request, workspace_id: int):
        batches = selectors.batches_for_request(request).filter(workspace_id=workspace_id)[:50]
        listed = _summaries(request, batches, rows=False)
        return Response(store_selectors.of_reachable_workspace(request, workspace_id, listed))

    @extend_schema(
        summary="Create an upload batch (selection, stores, alt source, transformation)",
        request=UploadBatchInputSerializer,
        responses={201: BatchSerializer},
    )
    def post(self, request, workspace_id: int):
        workspace = get_object_or_404(
            store_selectors.workspaces_for_request(request), pk=workspace_id
        )
        data = validated_body(request, UploadBatchInputSerializer, noun="upload batch")
        batch = _call(
            lambda: services.batch_create(
                user=request.user,
                workspace=workspace,
                data=data,
                store_scope=store_selectors.stores_for_request(request),
            )
        )
        return Response(_summary(request, batch.pk), status=status.HTTP_201_CREATED)


class UploadBatchDetailView(APIView):
    @extend_schema(summary="A batch: its dry run and its runs", responses=BatchSerializer)
    def get(self, request, batch_id: int):
        return Response(_summary(request, batch_id))


UploadDryRunSerializer = inline_serializer(
    "UploadDryRun",
    {"id": serializers.IntegerField(), "batch": serializers.IntegerField(), **DRY_RUN_JOB_FIELDS},
)


def _dry_run_json(request, dry_run) -> dict:
    return dry_runs.dry_run_json(dry_run, reach=store_selectors.stores_for_request(request))


def _latest_dry_run(batch) -> UploadDryRun:
    dry_run = dry_runs.latest(batch)
    if dry_run is None:
        raise Http404("This batch has no dry run yet.")
    return dry_run


class UploadBatchDryRunView(APIView):
    @extend_schema(
        summary="Dry run in the background: per store what would be created, reused or replaced",
        description="Starts the dry run as a background job (or answers the one already queued "
        "or running): it reads the selection from Cloudinary and the upload records, and writes "
        "nothing to Shopify. Follow it with GET; when it has `succeeded`, the batch "
        "(`GET /api/uploads/{id}/`) holds its result.",
        request=None,
        responses={202: UploadDryRunSerializer},
    )
    def post(self, request, batch_id: int):
        dry_run = dry_runs.dry_run_start(
            batch=_batch(request, batch_id),
            user=request.user,
            scope=store_selectors.request_scope(request),
        )
        return Response(_dry_run_json(request, dry_run), status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="The batch's latest dry run and its progress (404 before the first)",
        responses=UploadDryRunSerializer,
    )
    def get(self, request, batch_id: int):
        return Response(_dry_run_json(request, _latest_dry_run(_batch(request, batch_id))))


class UploadBatchDryRunCancelView(APIView):
    @extend_schema(
        summary="Cancel the batch's queued or running dry run (the previous result stays)",
        request=None,
        responses=UploadDryRunSerializer,
    )
    def post(self, request, batch_id: int):
        dry_run = _latest_dry_run(_batch(request, batch_id))
        cancelled = dry_runs.dry_run_cancel(
            dry_run=dry_run, user=request.user, scope=store_selectors.request_scope(request)
        )
        return Response(_dry_run_json(request, cancelled))


class UploadBatchStartView(APIView):
    @extend_schema(
        summary="Start: one run per store, queued",
        request=StoresInputSerializer,
        responses={202: RunListSerializer},
    )
    def post(self, request, batch_id: int):
        batch = _batch(request, batch_id)
        picked = chosen_stores(request, batch.stores.all(), f"upload batch {batch.pk}")
        stores = [s.shop_domain for s in picked]
        started = _call(
            lambda: services.batch_start(
                batch=batch,
                user=request.user,
                stores=stores,
                scope=store_selectors.request_scope(request),
            )
        )
        return Response([engine.run_progress(r) for r in started], status=status.HTTP_202_ACCEPTED)


class UploadRunDetailView(APIView):
    @extend_schema(
        summary="An upload run's progress (live while it runs) and where its time went",
        responses=RunDetailSerializer,
    )
    def get(self, request, run_id: int):
        run = _run(request, run_id)
        return Response({**engine.run_progress(run), "timings": run.timings})


class UploadRunAbortView(APIView):
    @extend_schema(summary="Stop at the next chunk boundary", request=None, responses=RunSerializer)
    def post(self, request, run_id: int):
        run = _call(lambda: runs.run_abort(run=_run(request, run_id)))
        return Response(engine.run_progress(run), status=status.HTTP_202_ACCEPTED)


class UploadRunResumeView(APIView):
    @extend_schema(
        summary="Go on with a run whose worker died", request=None, responses=RunSerializer
    )
    def post(self, request, run_id: int):
        run = _call(lambda: runs.run_resume(run=_run(request, run_id)))
        return Response(engine.run_progress(run), status=status.HTTP_202_ACCEPTED)


class UploadRunReportView(APIView):
    @extend_schema(
        summary="The upload report as CSV (store, asset, filename, file id, URL, action, "
        "error code)",
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request, run_id: int):
        run = _run(request, run_id)
        response = StreamingHttpResponse(selectors.report_lines(run), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{selectors.report_filename(run)}"'
        return response


class UploadRunRowsView(APIView):
    @extend_schema(
        summary="The upload run's rows (e.g. ?action=failed for its failures table)",
        parameters=[ACTION_FILTER],
        responses=inline_serializer(
            "UploadRunRows",
            {
                "count": serializers.IntegerField(),
                "rows": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    def get(self, request, run_id: int):
        run = _run(request, run_id)
        return Response(selectors.run_rows(run, actions_param(request)))
