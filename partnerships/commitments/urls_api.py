from rest_framework.routers import SimpleRouter

from partnerships.commitments_api import CommitmentViewSet

router = SimpleRouter()
router.register("commitments", CommitmentViewSet, basename="commitment")

urlpatterns = router.urls
