"""Deliverable 1 of issue #10 (the last clause): user text shown in pages is bidi-isolated,
so an Arabic title or a stray right-to-left override cannot reorder the text around it.

Every occurrence of text a person typed must sit inside ``<bdi>`` or an element with
``dir="auto"`` (attribute values — ``value=``, ``title=`` — are not rendered as text and are
not checked)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from partnerships.models import CountryApplication, Decision, Obligation, State
from tests.factories import create_application, make_user

pytestmark = pytest.mark.django_db

MARK = "مشروع‮ZQX"  # Arabic, a right-to-left override, and a marker to find
VOID = {"br", "hr", "img", "input", "meta", "link", "source", "wbr", "col", "area", "base"}


class _Isolation(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.exposed: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        isolated = tag == "bdi" or dict(attrs).get("dir") == "auto"
        self.stack.append((tag, isolated))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        if "ZQX" in data and not any(isolated for _, isolated in self.stack):
            path = "/".join(tag for tag, _ in self.stack[-4:])
            self.exposed.append(f"{path}: {data.strip()[:60]!r}")


def exposed(html: str) -> list[str]:
    parser = _Isolation()
    parser.feed(html)
    return parser.exposed


@pytest.fixture
def marked(official_jp, jp):
    application = create_application(
        official_jp,
        jp,
        title=f"{MARK} title",
        customization_notes=f"{MARK} notes",
        other_sector=f"{MARK} sector",
        data_categories=[f"{MARK} category"],
    )
    CountryApplication.objects.filter(pk=application.pk).update(
        state=State.FINAL_REVIEW, screening_outcome="clear", screening_list_version=1
    )
    decision = Decision.objects.create(
        application=application, action="concur", from_state="us_coordination",
        to_state="final_review", actor_label=f"{MARK}-actor", role="us_coordinator",
        rationale=f"{MARK} rationale", message_to_country=f"{MARK} message",
        application_version=2,
    )  # fmt: skip
    Obligation.objects.create(
        tenant=jp, application=application, decision=decision, text=f"{MARK} condition",
        due_date="2030-01-01",
    )  # fmt: skip
    application.refresh_from_db()
    return application


def test_the_checker_finds_exposed_text():
    assert exposed(f"<p>{MARK}</p>") and not exposed(f"<p><bdi>{MARK}</bdi></p>")
    assert not exposed(f'<td dir="auto"><a>{MARK}</a></td>')


@pytest.mark.parametrize("who", ["official", "reviewer", "approver", "auditor"])
def test_user_text_is_isolated_on_every_page(client, official_jp, marked, who):
    user = official_jp if who == "official" else make_user(who)
    client.force_login(user)
    pages = {
        "official": ["/", "/applications/", f"/applications/{marked.pk}/"],
        "reviewer": ["/", "/applications/", f"/applications/{marked.pk}/", "/review/"],
        "approver": ["/", "/review/", "/review/board/", f"/review/{marked.pk}/"],
        "auditor": [
            "/audit/",
            f"/audit/object/application/{marked.pk}/",
            f"/applications/{marked.pk}/",
        ],
    }[who]
    seen, problems = 0, []
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        seen += html.count("ZQX")
        problems += [f"{url} {p}" for p in exposed(html)]
    assert problems == []
    assert seen, "the marked text appears on these pages"
