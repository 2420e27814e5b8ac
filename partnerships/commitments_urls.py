from django.urls import path

from partnerships import commitments_views as views

urlpatterns = [
    path("commitments/", views.commitment_list, name="commitments"),
]
