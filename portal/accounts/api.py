from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django_otp import match_token, user_has_device
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from portal.accounts import services, throttle
from portal.accounts.models import ApiToken, Invitation, User
from portal.accounts.serializers import (
    AcceptAnswerSerializer,
    AcceptSerializer,
    ApiTokenSerializer,
    InvitationSerializer,
    MemberPatchSerializer,
    MemberSerializer,
    TokenAnswerSerializer,
    TokenRequestSerializer,
)
from portal.accounts.two_factor import requires_second_factor
from portal.api.viewsets import TenantScopedViewSet
from portal.audit.record import record_event
from portal.audit.verbs import Verb
from portal.tenancy.access import access_for
from portal.tenancy.models import Membership, ProgrammeRole


class TokenThrottle(AnonRateThrottle):
    scope = "token"


class InvitationThrottle(AnonRateThrottle):
    scope = "invitation"


def _too_many(seconds: int) -> Response:
    return Response(
        {
            "detail": _("Too many failed sign-in attempts. Try again in %(s)d seconds.")
            % {"s": seconds}
        },
        status=status.HTTP_429_TOO_MANY_REQUESTS,
        headers={"Retry-After": str(seconds)},
    )


class ObtainTokenView(APIView):
    """POST username and password (and a one-time code where required), get a new API token
    for this client; it expires (``expiry``) and can be revoked alone."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenThrottle]

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenAnswerSerializer})
    def post(self, request: Request) -> Response:
        body = TokenRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        username = body.validated_data["username"]
        if wait := throttle.seconds_to_wait(username):
            return _too_many(wait)
        user = authenticate(
            request._request, username=username, password=body.validated_data["password"]
        )
        if wait := getattr(request._request, "portal_account_wait", 0):
            return _too_many(wait)
        if user is None or not user.is_active:
            return Response(
                {"detail": "Invalid username or password."}, status=status.HTTP_400_BAD_REQUEST
            )
        throttle.clear(username)
        code = body.validated_data.get("otp", "")
        verified = False
        if requires_second_factor(user) or user_has_device(user):
            if not user_has_device(user):
                return Response(
                    {"otp": ["Set up two-step sign-in in the portal first."]}, status=400
                )
            if not code or match_token(user, code) is None:
                record_event(
                    verb=Verb.AUTH_2FA_FAILED, obj=user, actor=user, changes={"stage": "token"}
                )
                return Response({"otp": ["A valid one-time code is required."]}, status=400)
            verified = True
        client = body.validated_data.get("client") or request.headers.get("User-Agent", "")
        instance, token = services.token_issue(user=user, client=client, otp_verified=verified)
        return Response({"token": token, "expiry": instance.expiry})


class TokensView(APIView):
    """The caller's own API tokens. DELETE signs out everywhere: every token and session."""

    @extend_schema(responses=ApiTokenSerializer(many=True))
    def get(self, request: Request) -> Response:
        tokens = ApiToken.objects.filter(user=request.user)
        return Response(ApiTokenSerializer(tokens, many=True, context={"request": request}).data)

    @extend_schema(operation_id="v1_auth_tokens_destroy_all", responses={204: None})
    def delete(self, request: Request) -> Response:
        services.sign_out_everywhere(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenView(APIView):
    def _token(self, request: Request, token_id: str) -> ApiToken:
        # Parsed by the serializer field's own rule: a malformed id is simply not found.
        try:
            public_id = serializers.UUIDField().to_internal_value(token_id)
        except serializers.ValidationError:
            public_id = None
        return get_object_or_404(ApiToken, user=request.user, public_id=public_id)

    @extend_schema(responses=ApiTokenSerializer)
    def get(self, request: Request, token_id: str) -> Response:
        token = self._token(request, token_id)
        return Response(ApiTokenSerializer(token, context={"request": request}).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, token_id: str) -> Response:
        services.token_revoke(token=self._token(request, token_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, TenantScopedViewSet
):
    """Invitations a platform admin (any) or a country admin (their countries) may see.
    POST sends one, DELETE revokes it, POST ``resend/`` sends a new link."""

    queryset = Invitation.objects.select_related("tenant", "invited_by")
    serializer_class = InvitationSerializer
    filterset_fields = ["role"]

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not services.may_invite_anyone(request.user):  # before the body: 403, not 400
            raise PermissionDenied(_("You may not invite anyone."))
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        invitation, _token = services.invitation_create(
            actor=self.request.user, email=data["email"], role=data["role"],
            tenant=data.get("tenant"), language=data.get("language"),
        )  # fmt: skip
        serializer.instance = invitation

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        services.invitation_revoke(invitation=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=InvitationSerializer)
    @action(detail=True, methods=["post"])
    def resend(self, request: Request, pk: str | None = None) -> Response:
        invitation, _token = services.invitation_resend(
            invitation=self.get_object(), actor=request.user
        )
        return Response(InvitationSerializer(invitation).data)


class AcceptInvitationView(APIView):
    """Anonymous: accept an invitation, creating (or reactivating) the account. Any token
    that is not open (unknown, used, revoked, expired) gets the same 400."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [InvitationThrottle]

    @extend_schema(
        request=AcceptSerializer,
        responses={201: AcceptAnswerSerializer},
    )
    def post(self, request: Request) -> Response:
        body = AcceptSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user = services.invitation_accept(**body.validated_data)
        access = access_for(user)
        roles = set(access.programme_roles) | {r for rs in access.tenant_roles.values() for r in rs}
        answer = {
            "username": user.get_username(),
            "roles": sorted(roles),
            "two_factor_required": requires_second_factor(user),
        }
        return Response(AcceptAnswerSerializer(answer).data, status=status.HTTP_201_CREATED)


class MemberViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """People: a platform admin sees everyone, a country admin their countries' people.
    PATCH ``{"is_active": false}`` deactivates; reactivation is by a new invitation."""

    queryset = User.objects.order_by("username").prefetch_related(
        Prefetch("memberships", queryset=Membership.objects.select_related("tenant")),
        Prefetch("programme_roles", queryset=ProgrammeRole.objects.all()),
        "totpdevice_set",
    )
    serializer_class = MemberSerializer
    filterset_fields = ["is_active"]

    @extend_schema(request=MemberPatchSerializer, responses=MemberSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        member = self.get_object()
        body = MemberPatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if body.validated_data["is_active"]:
            if not member.is_active:
                raise serializers.ValidationError(
                    {"is_active": [_("Reactivate someone by sending them a new invitation.")]}
                )
        else:
            services.member_deactivate(user=member, actor=request.user)
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"], url_path="reset-device")
    def reset_device(self, request: Request, pk: str | None = None) -> Response:
        services.otp_reset(user=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    memberships = serializers.ListField(child=serializers.DictField())


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        access = access_for(request.user)
        memberships = [
            {"tenant": access.tenant_codes[tid], "role": role}
            for tid, roles in sorted(
                access.tenant_roles.items(), key=lambda kv: access.tenant_codes[kv[0]]
            )
            for role in sorted(roles)
        ]
        roles = sorted(set(access.programme_roles) | {m["role"] for m in memberships})
        return Response(
            {"username": request.user.get_username(), "roles": roles, "memberships": memberships}
        )
