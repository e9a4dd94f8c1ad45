from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from assetlink_project import health, metrics
from stores.admin_site import admin_site


def favicon(request):
    # Resolved per request: with the production manifest storage the hashed name exists only
    # after collectstatic, so it cannot be computed when the URLconf is imported.
    return HttpResponsePermanentRedirect(static("assetlink/favicon.svg"))


urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("favicon.ico", favicon),
    path("cloudinary/notifications/", include("linking.sync.urls")),
    path("admin/", admin_site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("stores.api_urls")),
    path("api/", include("linking.api_urls")),
    path("api/", include("reports.api_urls")),
    path("api/", include("uploads.api_urls")),
    path("api/", include("linking.sync.api_urls")),
    path("", include("pages.urls")),
    path("", include("stores.urls")),
]
