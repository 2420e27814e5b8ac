from django.urls import path
from rest_framework.routers import SimpleRouter

from portal.accounts import api
from portal.tenancy.api import TenantViewSet

router = SimpleRouter()
router.register("invitations", api.InvitationViewSet, basename="invitation")
router.register("members", api.MemberViewSet, basename="member")
router.register("tenants", TenantViewSet, basename="tenant")

urlpatterns = [
    path("auth/token/", api.ObtainTokenView.as_view(), name="api-token"),
    path("auth/tokens/", api.TokensView.as_view(), name="api-tokens"),
    path("auth/tokens/<str:token_id>/", api.TokenView.as_view(), name="api-token-detail"),
    path("me/", api.MeView.as_view(), name="api-me"),
    # Before the router, whose detail route would otherwise take "accept" for an id.
    path("invitations/accept/", api.AcceptInvitationView.as_view(), name="api-invitation-accept"),
    *router.urls,
]
