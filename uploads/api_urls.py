from django.urls import path

from uploads import api

urlpatterns = [
    path(
        "workspaces/<int:workspace_id>/uploads/",
        api.UploadBatchListView.as_view(),
        name="upload-batch-list",
    ),
    path("uploads/<int:batch_id>/", api.UploadBatchDetailView.as_view(), name="upload-batch"),
    path(
        "uploads/<int:batch_id>/dry-run/",
        api.UploadBatchDryRunView.as_view(),
        name="upload-batch-dry-run",
    ),
    path(
        "uploads/<int:batch_id>/dry-run/cancel/",
        api.UploadBatchDryRunCancelView.as_view(),
        name="upload-batch-dry-run-cancel",
    ),
    path(
        "uploads/<int:batch_id>/start/",
        api.UploadBatchStartView.as_view(),
        name="upload-batch-start",
    ),
    path("upload-runs/<int:run_id>/", api.UploadRunDetailView.as_view(), name="upload-run"),
    path(
        "upload-runs/<int:run_id>/abort/",
        api.UploadRunAbortView.as_view(),
        name="upload-run-abort",
    ),
    path(
        "upload-runs/<int:run_id>/resume/",
        api.UploadRunResumeView.as_view(),
        name="upload-run-resume",
    ),
    path("upload-runs/<int:run_id>/rows/", api.UploadRunRowsView.as_view(), name="upload-run-rows"),
    path(
        "upload-runs/<int:run_id>/report.csv",
        api.UploadRunReportView.as_view(),
        name="upload-run-report",
    ),
]
