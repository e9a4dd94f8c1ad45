"""The app page (root `/`)."""

from django.urls import path

from pages import views

urlpatterns = [
    path("", views.app, name="app"),
]
