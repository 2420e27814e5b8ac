from django.urls import include, path
from rest_framework.routers import SimpleRouter

from partnerships.api import ApplicationViewSet

router = SimpleRouter()
router.register("applications", ApplicationViewSet, basename="application")

urlpatterns = [*router.urls, path("", include("partnerships.commitments.urls_api"))]
