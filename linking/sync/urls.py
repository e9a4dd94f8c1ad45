"""Cloudinary's notifications to sync rules (under /cloudinary/notifications/, one URL per
workspace); included by the project's URLconf by name, so it imports no app."""

from django.urls import path

from linking.sync.views import cloudinary_notification

urlpatterns = [
    path("<int:workspace_id>", cloudinary_notification, name="cloudinary-notifications"),
]
