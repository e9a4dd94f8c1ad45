from django.urls import path

from linking.sync import api

urlpatterns = [
    path(
        "workspaces/<int:workspace_id>/sync-rules/",
        api.SyncRuleListView.as_view(),
        name="sync-rule-list",
    ),
    path("sync-rules/<int:rule_id>/", api.SyncRuleDetailView.as_view(), name="sync-rule-detail"),
    path(
        "sync-rules/<int:rule_id>/pause/", api.SyncRulePauseView.as_view(), name="sync-rule-pause"
    ),
    path(
        "sync-rules/<int:rule_id>/resume/",
        api.SyncRuleResumeView.as_view(),
        name="sync-rule-resume",
    ),
    path(
        "sync-rules/<int:rule_id>/reconcile/",
        api.SyncRuleReconcileView.as_view(),
        name="sync-rule-reconcile",
    ),
    path(
        "sync-rules/<int:rule_id>/history/",
        api.SyncRuleHistoryView.as_view(),
        name="sync-rule-history",
    ),
]
