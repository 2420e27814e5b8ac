from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from portal import health, views

api_v1: list[URLPattern | URLResolver] = [
    path("", include("portal.accounts.urls_api")),
    path("", include("portal.audit.urls_api")),
    path("", include("partnerships.urls_api")),
    path("", include("compliance.urls_api")),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Served by the portal (sidecar), its set-up script a separate file (CSP), signed-in only.
    path(
        "api/docs/",
        login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    # Django's set_language, fixed for prefixed pages (portal.views.set_language).
    path("i18n/setlang/", views.set_language, name="set_language"),
]

urlpatterns += i18n_patterns(
    path("", views.dashboard, name="dashboard"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("portal.accounts.urls")),
    path("audit/", include("portal.audit.urls")),
    path("", include("partnerships.urls")),
    path("", include("compliance.urls")),
    path("admin/", admin.site.urls),
    prefix_default_language=False,
)
