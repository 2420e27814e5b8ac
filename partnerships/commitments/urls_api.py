from rest_framework.routers import SimpleRouter

from partnerships.commitments.api import CommitmentViewSet

router = SimpleRouter()
router.register("commitments", CommitmentViewSet, basename="commitment")

urlpatterns = router.urls
