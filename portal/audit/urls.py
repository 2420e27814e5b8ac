from django.urls import path

from portal.audit import views

urlpatterns = [
    path("", views.explorer, name="audit-explorer"),
]
