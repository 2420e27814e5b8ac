from django.urls import path, re_path

from partnerships.commitments import views

urlpatterns = [
    path("commitments/", views.commitment_list, name="commitments"),
    path("commitments/export.csv", views.commitment_export, name="commitments-export"),
    path("commitments/new/", views.commitment_new, name="commitment-new"),
    path("commitments/<int:pk>/", views.commitment_detail, name="commitment-detail"),
    path("commitments/<int:pk>/edit/", views.commitment_edit, name="commitment-edit"),
    re_path(
        r"^commitments/(?P<pk>\d+)/(?P<action>confirm|withdraw)/$",
        views.commitment_action,
        name="commitment-action",
    ),
    path(
        "commitments/<int:pk>/tranches/<int:tranche_id>/pay/",
        views.tranche_pay,
        name="commitment-tranche-pay",
    ),
]
