"""The app page (root `/`) and the picker API the page uses."""

from django.urls import path

from linking import pages, picker_api

urlpatterns = [
    path("", pages.app, name="app"),
    path(
        "api/workspaces/<int:workspace_id>/assets/",
        picker_api.AssetSearchView.as_view(),
        name="picker-assets",
    ),
    path(
        "api/workspaces/<int:workspace_id>/assets/<str:asset_id>/caption/",
        picker_api.CaptionView.as_view(),
        name="picker-caption",
    ),
    path(
        "api/workspaces/<int:workspace_id>/selection/groups/",
        picker_api.SelectionGroupsView.as_view(),
        name="selection-groups",
    ),
    path(
        "api/workspaces/<int:workspace_id>/metadata-fields/",
        picker_api.MetadataFieldsView.as_view(),
        name="metadata-fields",
    ),
    path(
        "api/workspaces/<int:workspace_id>/test-connection/",
        picker_api.TestConnectionView.as_view(),
        name="test-connection",
    ),
]
