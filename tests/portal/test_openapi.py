from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_schema_documents_auth_and_the_example_payload(api):
    from tests.factories import make_user

    schema = api.as_user(make_user("reviewer")).get("/api/schema/", {"format": "json"}).json()
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])
    post = schema["paths"]["/api/v1/applications/"]["post"]
    examples = post["requestBody"]["content"]["application/json"]["examples"]
    assert any(e["value"]["title"] == "Kansai sovereign AI campus" for e in examples.values())
    for path in (
        "/api/v1/applications/{id}/transitions/",
        "/api/v1/audit-events/verify/",
        "/api/v1/commitments/",
        "/api/v1/territories/",
        "/api/v1/me/",
    ):
        assert path in schema["paths"], path


def test_schema_generates_without_warnings_or_errors():
    """drf-spectacular resolves problems (e.g. two operations with one operationId) silently
    with numeral suffixes; a client generated from such a schema gets unstable names."""
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    problems = dict(GENERATOR_STATS._warn_cache) | dict(GENERATOR_STATS._error_cache)
    GENERATOR_STATS.reset()
    assert not problems, problems
    ids = [op["operationId"] for item in schema["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
