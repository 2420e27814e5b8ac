"""Pages for people (DESIGN §5b); mounted under the language prefixes."""

from django.urls import path

from portal.accounts import two_factor, views

urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/invitation/<str:token>/", views.invitation_accept, name="invitation-accept"),
    path("accounts/2fa/setup/", two_factor.setup, name="two-factor-setup"),
    path("accounts/2fa/recovery-codes/", two_factor.recovery_codes, name="two-factor-codes"),
    path("accounts/2fa/enrol/<str:token>/", two_factor.enrol_link, name="two-factor-enrol-link"),
    path("accounts/2fa/", two_factor.verify, name="two-factor-verify"),
    path(
        "accounts/password/change/",
        views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/change/done/",
        views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password/reset/done/",
        views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/complete/",
        views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("accounts/security/", views.security, name="account-security"),
    path(
        "accounts/security/tokens/<uuid:token_id>/revoke/",
        views.security_revoke_token,
        name="account-token-revoke",
    ),
    path(
        "accounts/security/sign-out-everywhere/",
        views.security_sign_out_everywhere,
        name="account-sign-out-everywhere",
    ),
    path("people/", views.people, name="people"),
    path("people/invite/", views.people_invite, name="people-invite"),
    path(
        "people/invitations/<int:pk>/revoke/",
        views.invitation_revoke,
        name="people-invitation-revoke",
    ),
    path(
        "people/invitations/<int:pk>/resend/",
        views.invitation_resend,
        name="people-invitation-resend",
    ),
    path("people/<int:pk>/deactivate/", views.member_deactivate, name="people-deactivate"),
    path("people/<int:pk>/reset-device/", views.member_reset_device, name="people-reset-device"),
    path("countries/", views.countries, name="countries"),
]
