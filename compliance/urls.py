from django.urls import path

from compliance import views

urlpatterns = [
    path("compliance/holds/", views.holds, name="compliance-holds"),
    path("compliance/holds/<int:pk>/decide/", views.hold_decide, name="compliance-hold-decide"),
    path("compliance/territories/", views.territories, name="compliance-territories"),
    path(
        "compliance/territories/progress/",
        views.rescreen_progress,
        name="compliance-rescreen-progress",
    ),
]
