"""The RQ dashboard (django-rq's views) inside AssetLink's Django admin, for superusers only:
queues, jobs and workers span every workspace, so workspace members never see it."""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.urls import URLPattern
from django_rq.admin import QueueAdmin
from django_rq.models import Dashboard

from stores.admin_site import admin_site


def _superuser_only(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not (request.user.is_active and request.user.is_superuser):
            raise PermissionDenied("The RQ dashboard is for operators (superusers).")
        return view(request, *args, **kwargs)

    return wrapper


class OperatorQueueAdmin(QueueAdmin):
    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def get_urls(self):
        return [
            URLPattern(p.pattern, _superuser_only(p.callback), p.default_args, p.name)
            for p in super().get_urls()
        ]


if not admin_site.is_registered(Dashboard):
    admin_site.register(Dashboard, OperatorQueueAdmin)
