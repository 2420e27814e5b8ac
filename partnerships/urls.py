from django.urls import include, path

from partnerships import views

urlpatterns = [
    path("applications/", views.application_list, name="applications"),
    path("applications/new/", views.application_new, name="application-new"),
    path("applications/<int:pk>/", views.application_detail, name="application-detail"),
    path("applications/<int:pk>/edit/<str:step>/", views.application_edit, name="application-edit"),
    path("applications/<int:pk>/submit/", views.application_submit, name="application-submit"),
    path(
        "applications/<int:pk>/withdraw/", views.application_withdraw, name="application-withdraw"
    ),
    path("applications/<int:pk>/reply/", views.application_reply, name="application-reply"),
    path(
        "applications/<int:pk>/attachments/",
        views.application_attachments,
        name="application-attachments",
    ),
    path(
        "applications/<int:pk>/attachments/<int:attachment_id>/",
        views.attachment_download,
        name="attachment-download",
    ),
    path(
        "applications/<int:pk>/obligations/<int:obligation_id>/evidence/",
        views.obligation_evidence,
        name="obligation-evidence",
    ),
    path(
        "applications/<int:pk>/obligations/<int:obligation_id>/met/",
        views.obligation_met,
        name="obligation-met",
    ),
    path("applications/estimate/", views.emission_estimate, name="emission-estimate"),
    path("review/", views.review_queues, name="review"),
    path("review/board/", views.approver_board, name="approver-board"),
    path("review/<int:pk>/", views.review_detail, name="review-detail"),
    path("review/<int:pk>/act/", views.review_act, name="review-act"),
    path("review/<int:pk>/assign/", views.review_assign, name="review-assign"),
    path("", include("partnerships.commitments.urls")),
]
