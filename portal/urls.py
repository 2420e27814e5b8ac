from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from portal import health, views
from portal.accounts import api as accounts_api
from portal.accounts import two_factor

api_v1: list[URLPattern | URLResolver] = [
    path("auth/token/", accounts_api.ObtainTokenView.as_view(), name="api-token"),
    path("me/", accounts_api.MeView.as_view(), name="api-me"),
    path("", include("portal.audit.urls_api")),
    path("", include("partnerships.urls_api")),
    path("", include("compliance.urls_api")),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("i18n/", include("django.conf.urls.i18n")),
]

urlpatterns += i18n_patterns(
    path("", views.dashboard, name="dashboard"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/2fa/setup/", two_factor.setup, name="two-factor-setup"),
    path("accounts/2fa/", two_factor.verify, name="two-factor-verify"),
    path("audit/", include("portal.audit.urls")),
    path("", include("partnerships.urls")),
    path("", include("compliance.urls")),
    path("admin/", admin.site.urls),
    prefix_default_language=False,
)
