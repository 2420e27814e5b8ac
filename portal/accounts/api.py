from __future__ import annotations

from django.contrib.auth import authenticate
from django_otp import match_token, user_has_device
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from portal.accounts.two_factor import requires_second_factor
from portal.api.fields import TextField
from portal.audit.record import record_event
from portal.audit.verbs import Verb
from portal.tenancy.access import access_for


class TokenThrottle(AnonRateThrottle):
    scope = "token"


class TokenRequestSerializer(serializers.Serializer):
    username = TextField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False)
    otp = TextField(
        max_length=8, required=False, help_text="Programme staff: the current one-time code."
    )


class ObtainTokenView(APIView):
    """POST username and password, get the user's API token."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenThrottle]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: inline_serializer("Token", {"token": serializers.CharField()})},
    )
    def post(self, request: Request) -> Response:
        body = TokenRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        credentials = {k: body.validated_data[k] for k in ("username", "password")}
        user = authenticate(request._request, **credentials)
        if user is None or not user.is_active:
            return Response(
                {"detail": "Invalid username or password."}, status=status.HTTP_400_BAD_REQUEST
            )
        if requires_second_factor(user):
            code = body.validated_data.get("otp", "")
            if not user_has_device(user):
                return Response(
                    {"otp": ["Set up two-step sign-in in the portal first."]}, status=400
                )
            if not code or match_token(user, code) is None:
                record_event(
                    verb=Verb.AUTH_2FA_FAILED, obj=user, actor=user, changes={"stage": "token"}
                )
                return Response({"otp": ["A valid one-time code is required."]}, status=400)
        token, created = Token.objects.get_or_create(user=user)
        if created:
            record_event(verb=Verb.AUTH_TOKEN_CREATED, obj=user, actor=user)
        return Response({"token": token.key})


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
