from django.urls import path

from stores import api

urlpatterns = [
    path("session/", api.SessionView.as_view(), name="session"),
    path("workspaces/", api.WorkspaceListView.as_view(), name="workspace-list"),
    path("workspaces/<int:workspace_id>/setup/", api.SetupView.as_view(), name="workspace-setup"),
    path(
        "workspaces/<int:workspace_id>/members/",
        api.MemberListView.as_view(),
        name="workspace-members",
    ),
    path(
        "workspaces/<int:workspace_id>/members/<int:member_id>/",
        api.MemberDetailView.as_view(),
        name="workspace-member",
    ),
    path(
        "workspaces/<int:workspace_id>/invitations/",
        api.InvitationListView.as_view(),
        name="workspace-invitations",
    ),
    path(
        "workspaces/<int:workspace_id>/invitations/<int:invitation_id>/",
        api.InvitationDetailView.as_view(),
        name="workspace-invitation",
    ),
    path(
        "workspaces/<int:workspace_id>/cloudinary/",
        api.CloudinaryConnectionView.as_view(),
        name="workspace-cloudinary",
    ),
    path(
        "workspaces/<int:workspace_id>/cloudinary/test/",
        api.CloudinaryConnectionTestView.as_view(),
        name="workspace-cloudinary-test",
    ),
    path(
        "workspaces/<int:workspace_id>/stores/connect/",
        api.StoreConnectView.as_view(),
        name="workspace-store-connect",
    ),
    path("stores/<int:store_id>/api-keys/", api.ApiKeyListView.as_view(), name="store-api-keys"),
    path(
        "stores/<int:store_id>/api-keys/<int:key_id>/",
        api.ApiKeyDetailView.as_view(),
        name="store-api-key",
    ),
]
