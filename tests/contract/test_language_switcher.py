"""Row 12 of issue #10: the language switcher works from every prefixed page, in all five
languages (the page comes back in the chosen language, at its own address)."""

from __future__ import annotations

import pytest

from tests.factories import make_user

pytestmark = pytest.mark.django_db

LANGUAGES = ["en", "ja", "fr", "es", "ar"]
PAGES = ["/", "/review/", "/applications/", "/audit/?verb=x&after=5", "/commitments/"]


def _prefixed(language: str, path: str) -> str:
    return path if language == "en" else f"/{language}{path}"


@pytest.mark.parametrize("origin", LANGUAGES)
@pytest.mark.parametrize("chosen", LANGUAGES)
def test_switching_from_every_prefixed_page(client, origin, chosen):
    for page in PAGES:
        response = client.post(
            "/i18n/setlang/", {"language": chosen, "next": _prefixed(origin, page)}
        )
        assert response.status_code == 302
        assert response["Location"] == _prefixed(chosen, page), (origin, chosen, page)
        assert response.cookies["django_language"].value == chosen


@pytest.mark.parametrize("chosen", LANGUAGES)
def test_the_page_then_speaks_the_chosen_language(client, chosen):
    user = make_user("reviewer")
    client.force_login(user)
    client.cookies["django_language"] = "ja"
    response = client.post(
        "/i18n/setlang/", {"language": chosen, "next": "/ja/review/"}, follow=True
    )
    assert response.status_code == 200
    assert f'<html lang="{chosen}"' in response.content.decode()


def test_unsafe_or_odd_next_values_stay_on_the_site(client):
    for next_url in ("https://evil.example/ja/", "//evil.example/", "/ja", "/api/docs/", ""):
        response = client.post("/i18n/setlang/", {"language": "fr", "next": next_url})
        assert response.status_code == 302
        location = response["Location"]
        assert location.startswith("/") and not location.startswith("//"), (next_url, location)
    assert (
        client.post("/i18n/setlang/", {"language": "xx", "next": "/ja/review/"})["Location"]
        == "/ja/review/"
    )  # an unknown language changes nothing
