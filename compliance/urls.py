from django.urls import path

from compliance import views

urlpatterns = [
    path("compliance/holds/", views.holds, name="compliance-holds"),
    path("compliance/territories/", views.territories, name="compliance-territories"),
]
