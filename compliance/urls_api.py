from django.urls import path
from rest_framework.routers import SimpleRouter

from compliance.api import ScreeningViewSet, TerritoryListVersionViewSet, TerritoryViewSet

router = SimpleRouter()
router.register("territory-versions", TerritoryListVersionViewSet, basename="territory-version")
router.register("territories", TerritoryViewSet, basename="territory")

urlpatterns = [
    *router.urls,
    path(
        "applications/<int:application_pk>/screenings/",
        ScreeningViewSet.as_view({"get": "list", "post": "create"}),
        name="application-screenings",
    ),
]
