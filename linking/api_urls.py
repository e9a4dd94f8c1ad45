from django.urls import path

from linking import api, manage_api, picker_api

urlpatterns = [
    path("workspaces/<int:workspace_id>/plans/", api.PlanListView.as_view(), name="plan-list"),
    path(
        "workspaces/<int:workspace_id>/match/", api.MatchCountsView.as_view(), name="match-counts"
    ),
    path(
        "workspaces/<int:workspace_id>/link-stores/",
        api.LinkStoreChoiceView.as_view(),
        name="link-store-choice",
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
    # Manage links
    path("workspaces/<int:workspace_id>/links/", manage_api.LinkListView.as_view(), name="links"),
    path(
        "workspaces/<int:workspace_id>/links/unlink/",
        manage_api.LinkUnlinkView.as_view(),
        name="links-unlink",
    ),
    path(
        "workspaces/<int:workspace_id>/links/relink/",
        manage_api.LinkRelinkView.as_view(),
        name="links-relink",
    ),
    path(
        "workspaces/<int:workspace_id>/assets/",
        picker_api.AssetSearchView.as_view(),
        name="picker-assets",
    ),
    path(
        "workspaces/<int:workspace_id>/assets/<str:asset_id>/caption/",
        picker_api.CaptionView.as_view(),
        name="picker-caption",
    ),
    path(
        "workspaces/<int:workspace_id>/selection/groups/",
        picker_api.SelectionGroupsView.as_view(),
        name="selection-groups",
    ),
    path(
        "workspaces/<int:workspace_id>/metadata-fields/",
        picker_api.MetadataFieldsView.as_view(),
        name="metadata-fields",
    ),
    path(
        "workspaces/<int:workspace_id>/test-connection/",
        picker_api.TestConnectionView.as_view(),
        name="test-connection",
    ),
]
