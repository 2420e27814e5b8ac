from django.urls import path

from portal.audit import views

urlpatterns = [
    path("", views.explorer, name="audit-explorer"),
    path("object/<str:object_type>/<str:object_id>/", views.object_timeline, name="audit-object"),
    path("verify/", views.verify, name="audit-verify"),
    path("verify/status/", views.verify_status, name="audit-verify-status"),
    path("checkpoints/", views.checkpoints, name="audit-checkpoints"),
    path("export/", views.export, name="audit-export"),
]
