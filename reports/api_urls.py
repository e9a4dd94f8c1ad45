from django.urls import path

from reports import api

urlpatterns = [
    path("runs/", api.RunListView.as_view(), name="run-list"),
    path("runs/<int:run_id>/", api.RunDetailView.as_view(), name="run-detail"),
    path("runs/<int:run_id>/abort/", api.RunAbortView.as_view(), name="run-abort"),
    path("runs/<int:run_id>/resume/", api.RunResumeView.as_view(), name="run-resume"),
    path("runs/<int:run_id>/undo/", api.RunUndoView.as_view(), name="run-undo"),
    path("runs/<int:run_id>/rows/", api.RunRowsView.as_view(), name="run-rows"),
    path("runs/<int:run_id>/report.csv", api.RunReportView.as_view(), name="run-report"),
]
