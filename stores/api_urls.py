from django.urls import path

from stores import api

urlpatterns = [
    path("workspaces/", api.WorkspaceListView.as_view(), name="workspace-list"),
    path("workspaces/<int:workspace_id>/setup/", api.SetupView.as_view(), name="workspace-setup"),
]
