"""Compliance API serializers: shapes only, no rules."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from compliance.models import ScreeningResult, Territory, TerritoryListVersion
from compliance.screening import citation
from portal.api.schema import role_dependent

#: What a source id looks like; anything else in a stored finding predates source records
#: (it held header text, even a machine path) and is never shown.
SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9.-]{1,62}$")


class CitationSerializer(serializers.Serializer):
    """A source record as a reader needs it: what, where, when (or why the date is unknown)."""

    id = serializers.CharField()
    title = serializers.CharField()
    url = serializers.CharField()
    date = serializers.CharField(allow_null=True)
    date_meaning = serializers.CharField(allow_blank=True)
    date_unknown = serializers.CharField(allow_blank=True)


class TerritorySerializer(serializers.ModelSerializer):
    list_version = serializers.IntegerField(source="version.number", read_only=True)
    sources = serializers.SerializerMethodField()

    class Meta:
        model = Territory
        fields = [
            "code",
            "name",
            "supported",
            "basis",
            "groups",
            "comprehensive_sanctions",
            "sources",
            "notes",
            "list_version",
        ]

    @extend_schema_field(
        serializers.DictField(
            child=CitationSerializer(allow_null=True),
            help_text=(
                "For each fact (supported, groups, sanctions): the source record that establishes it, "
                "or null when the row cites none (sanctions=false needs none)."
            ),
        )
    )
    def get_sources(self, obj: Territory) -> dict[str, Any]:
        return {fact: citation(obj.version, source_id) for fact, source_id in obj.sources.items()}


class TerritoryListVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = TerritoryListVersion
        fields = [
            "number",
            "effective_date",
            "source",
            "sources",
            "checksum",
            "loaded_at",
            "diff",
            "rescreen_total",
            "rescreen_done",
            "rescreen_started_at",
        ]


class FindingSerializer(serializers.Serializer):
    rule = serializers.CharField()
    outcome = serializers.CharField()
    subject = serializers.CharField(required=False)
    roles = serializers.ListField(child=serializers.CharField(), required=False)
    fact = serializers.CharField()
    source = serializers.SerializerMethodField(  # type: ignore[assignment]  # named like Field.source
        help_text="The id of the source record that establishes the fact ('application' for "
        "the application's own answers); empty for findings recorded before source records."
    )
    citation = CitationSerializer(allow_null=True, required=False)
    reason = serializers.CharField()

    def get_source(self, finding: dict[str, Any]) -> str:
        value = finding.get("source", "")
        return value if isinstance(value, str) and SOURCE_ID.match(value) else ""


@role_dependent("policy_version", "outcome", "findings", "task_id", "started_at")
class ScreeningResultSerializer(serializers.ModelSerializer):
    """Programme staff: the outcome and every finding with its source. (The country's people
    get ``CountryScreeningSerializer``'s fields only: the others are optional in the schema.)"""

    list_version = serializers.IntegerField(source="list_version.number", read_only=True)
    policy_version = serializers.IntegerField(
        source="policy_version.number", read_only=True, allow_null=True
    )
    findings = FindingSerializer(many=True, read_only=True)

    class Meta:
        model = ScreeningResult
        fields = [
            "id",
            "application_version",
            "list_version",
            "policy_version",
            "outcome",
            "findings",
            "task_id",
            "started_at",
            "finished_at",
        ]


class CountryScreeningSerializer(serializers.ModelSerializer):
    """A country's officials: that a screening ran, never its outcome or findings.

    The public state of a hold is "Under review"; the outcome would reveal the internal
    deliberation that DESIGN §4 keeps from the country.
    """

    list_version = serializers.IntegerField(source="list_version.number", read_only=True)

    class Meta:
        model = ScreeningResult
        fields = ["id", "application_version", "list_version", "finished_at"]


class ScreeningRequestedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    application_version = serializers.IntegerField()
    list_version = serializers.IntegerField()
