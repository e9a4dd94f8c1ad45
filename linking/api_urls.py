from django.urls import path

from linking import api

urlpatterns = [
    path("workspaces/<int:workspace_id>/plans/", api.PlanListView.as_view(), name="plan-list"),
    path(
        "workspaces/<int:workspace_id>/match/", api.MatchCountsView.as_view(), name="match-counts"
    ),
    path("plans/<int:plan_id>/", api.PlanDetailView.as_view(), name="plan-detail"),
    path("plans/<int:plan_id>/dry-run/", api.PlanDryRunView.as_view(), name="plan-dry-run"),
    path(
        "plans/<int:plan_id>/dry-run/cancel/",
        api.PlanDryRunCancelView.as_view(),
        name="plan-dry-run-cancel",
    ),
    path("plans/<int:plan_id>/run/", api.PlanRunView.as_view(), name="plan-run"),
    path("runs/<int:run_id>/retry/", api.RunRetryView.as_view(), name="run-retry"),
    path(
        "plans/<int:plan_id>/statistics/",
        api.PlanStatisticsView.as_view(),
        name="plan-statistics",
    ),
    path("plans/<int:plan_id>/result/", api.PlanResultView.as_view(), name="plan-result"),
    path("plans/<int:plan_id>/report.csv", api.PlanReportView.as_view(), name="plan-report"),
]
