"""Every role's main job in Chromium, in English, Japanese and Arabic, at 1280 px and 375 px.

On every page visited: axe-core (vendored npm package, tests/e2e/vendor) finds no violation,
and nothing is wider than the viewport (``scrollWidth <= innerWidth``). With
``PORTAL_SCREENSHOTS=<dir>`` (``make screenshots``) the English/Arabic walk also saves the
README's screenshots there. Data: ``seed_demo`` (applications in every state, one user per role).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
PASSWORD = "demo-walk-password"
WIDTHS = tuple(int(w) for w in os.environ.get("E2E_WIDTHS", "1280,375").split(","))
SHOTS = os.environ.get("PORTAL_SCREENSHOTS", "")


class Walk:
    """One browser context per signed-in role; collects every problem instead of stopping."""

    def __init__(self, browser: Any, base: str, lang: str, width: int) -> None:
        self.browser, self.base, self.lang, self.width = browser, base, lang, width
        self.prefix = "" if lang == "en" else f"/{lang}"
        self.problems: list[str] = []
        self.pages = 0
        self.page: Any = None
        self.signed_in_once = False

    def sign_in(self, username: str) -> None:
        if self.page is not None:
            self.page.context.close()
        context = self.browser.new_context(
            viewport={"width": self.width, "height": 900},
            locale={"en": "en-US", "ja": "ja-JP", "ar": "ar-AE"}[self.lang],
            bypass_csp=True,  # lets the test inject axe; the portal's own pages need no bypass
        )
        # axe-core loads with every page (cheaper than injecting it after each navigation).
        context.add_init_script(AXE)
        self.page = context.new_page()
        self.page.goto(f"{self.base}{self.prefix}/accounts/login/")
        if not self.signed_in_once:
            self.check("login")
            self.signed_in_once = True
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", PASSWORD)
        self.page.press("#id_password", "Enter")
        self.page.wait_for_url(f"{self.base}{self.prefix}/")
        self.check(f"{username} dashboard")

    def go(self, path: str, name: str) -> None:
        response = self.page.goto(f"{self.base}{self.prefix}{path}")
        if response is None or response.status >= 400:
            self.problems.append(f"{name}: {path} answered {response and response.status}")
        self.check(name)

    def check(self, name: str) -> None:
        """axe-core on the page as it is now, and no horizontal overflow."""
        self.pages += 1
        page = self.page
        page.wait_for_load_state("load")
        where = f"[{self.lang} {self.width}px] {name} ({page.url})"
        overflow = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        if overflow[0] > overflow[1]:
            wide = page.evaluate(
                """() => [...document.querySelectorAll('body *')].filter(e => {
                    const r = e.getBoundingClientRect();
                    if (r.right <= window.innerWidth + 1 && r.left >= -1) return false;
                    if (e.classList.contains('skip-link')) return false;
                    for (let p = e.parentElement; p; p = p.parentElement) {
                      if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(p).overflowX))
                        return false;
                    }
                    return true;
                  }).slice(-4).map(e => `${e.tagName}.${e.className}#${e.id}`
                     + ` in ${e.parentElement.tagName}.${e.parentElement.className}`)"""
            )
            self.problems.append(f"{where}: {overflow[0]} px wide > {overflow[1]}: {wide}")
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.add_script_tag(content=AXE)  # a page the init script could not reach
        violations = page.evaluate(
            """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
                 .map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3)
                   .map(n => n.target.join(' ')).join(' | ')}`)"""
        )
        self.problems.extend(f"{where}: axe {v}" for v in violations)

    def shot(self, name: str, *, full_page: bool = True) -> None:
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            self.page.evaluate("document.activeElement && document.activeElement.blur()")
            self.page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=full_page)

    def close(self) -> None:
        if self.page is not None:
            self.page.context.close()


@pytest.fixture
def demo(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("DEMO_PASSWORD", PASSWORD)
    call_command("seed_demo", verbosity=0)
    from partnerships.models import CoInvestmentCommitment, CountryApplication

    apps = {a.state: a for a in CountryApplication.objects.select_related("tenant")}
    yield {
        "apps": apps,
        "commitment": CoInvestmentCommitment.objects.filter(tenant__code="JP").get(),
    }


def _official_job(walk: Walk, demo: dict[str, Any], shots: bool) -> None:
    draft = demo["apps"]["draft"]
    walk.sign_in("official-jp")
    walk.go("/applications/", "applications")
    walk.go(f"/applications/{draft.pk}/", "draft detail")
    for step in ("general", "sites", "localization", "sovereignty", "security", "fund"):
        walk.go(f"/applications/{draft.pk}/edit/{step}/", f"step {step}")
        if step == "sites":
            if shots and walk.lang == "en":
                walk.shot("official-form-step")
            walk.page.click("button[name=add_site]")
            walk.check("sites with a new block")
            walk.page.fill("#site-0-capacity_mw", "lots")
            walk.page.fill("#site-0-mix-solar", "10")
            walk.page.click("button[name=save]")
            walk.check("sites with errors")
            focused = walk.page.evaluate("document.activeElement.id")
            if focused != "error-summary":
                walk.problems.append(f"[{walk.lang}] error summary not focused: {focused}")
    walk.go(f"/applications/{draft.pk}/attachments/", "attachments")
    walk.go(f"/applications/{draft.pk}/submit/", "submit summary")
    if shots and walk.lang == "en":
        walk.shot("official-submit-summary")
    walk.go("/commitments/", "commitments")
    walk.go(f"/commitments/{demo['commitment'].pk}/", "commitment detail")
    walk.go("/commitments/new/", "new commitment")

    asked = demo["apps"]["info_requested"]
    walk.sign_in(f"official-{asked.tenant.code.lower()}")
    walk.go(f"/applications/{asked.pk}/", "information requested")
    walk.page.fill("#reply-text", "")
    walk.page.click("form[action$='/reply/'] button[type=submit]")
    walk.check("reply with an error")
    walk.page.fill("#reply-text", "PUE 1.15; grid connection in March 2028.")
    walk.page.click("form[action$='/reply/'] button[type=submit]")
    walk.check("reply sent")

    approved = demo["apps"]["approved"]
    walk.sign_in(f"official-{approved.tenant.code.lower()}")
    if shots and walk.lang == "ar":
        walk.shot("arabic-dashboard")
    walk.go(f"/applications/{approved.pk}/", "approved with obligations")
    if shots and walk.lang == "en":
        walk.shot("approved-with-obligations")


def _review_job(walk: Walk, demo: dict[str, Any], shots: bool) -> None:
    apps = demo["apps"]
    walk.sign_in("reviewer")
    walk.go("/review/", "review queue")
    if shots:
        walk.shot("reviewer-queue")
    walk.go(f"/review/{apps['technical_review'].pk}/", "technical review")
    walk.page.check("#action-reject")
    walk.page.click("form[action$='/act/'] button[type=submit].primary")
    walk.check("decision with an error")
    walk.page.fill("#rationale", "Outside the programme's scope.")
    walk.page.click("form[action$='/act/'] button[type=submit].primary")
    walk.check("reject confirmation")
    walk.page.click("button[name=edit]")
    walk.check("back to the decision form")
    walk.go(f"/review/{apps['info_requested'].pk}/", "questions and answers")

    walk.sign_in("security_reviewer")
    walk.go(f"/review/{apps['security_review'].pk}/", "security review")

    walk.sign_in("us_coordinator")
    walk.go("/review/?state=us_coordination", "US coordination queue")
    if shots:
        walk.shot("us-coordination-queue")
    walk.go(f"/review/{apps['us_coordination'].pk}/", "US coordination")
    walk.page.check("#action-concur")
    walk.page.fill("#rationale", "Coordinated with the interagency process.")
    walk.page.fill("#cond-1", "No ECCN 3A090 chips before the site's VEU approval.")
    walk.page.fill("#cond-due-1", "2030-06-30")
    walk.check("concurrence with a condition")
    if shots:
        walk.shot("review-decision-with-condition")
    walk.page.check("#action-non_concur")
    walk.page.click("form[action$='/act/'] button[type=submit].primary")
    walk.check("non-concurrence confirmation")

    walk.sign_in("approver")
    walk.go("/review/board/", "approver board")
    walk.go(f"/review/{apps['final_review'].pk}/", "final review")
    walk.page.check("#action-approve")
    walk.page.click("form[action$='/act/'] button[type=submit].primary")
    walk.check("approval confirmation")
    walk.go("/commitments/", "commitments dashboard")
    if shots:
        walk.shot("commitments-dashboard")

    walk.sign_in("compliance_officer")
    walk.go("/compliance/holds/", "screening holds")
    walk.go("/compliance/territories/", "territories")

    walk.sign_in("auditor")
    walk.go("/audit/", "audit explorer")
    if shots:
        walk.shot("audit-explorer", full_page=False)
    approved = apps["approved"]
    walk.go(f"/audit/object/partnerships.countryapplication/{approved.pk}/", "audit timeline")
    if shots:
        walk.shot("audit-timeline", full_page=False)
    walk.go("/audit/", "audit explorer again")
    walk.page.click("form[action$='/audit/verify/'] button[type=submit]")
    walk.page.wait_for_selector("#verify-status .badge")
    walk.check("chain verified")
    walk.go("/audit/checkpoints/", "signed checkpoints")


@pytest.mark.parametrize("lang", ["en", "ja", "ar"])
def test_every_role_in_every_width_without_axe_violations_or_overflow(
    browser: Any, live_server: Any, demo: dict[str, Any], lang: str
) -> None:
    problems: list[str] = []
    pages = 0
    for width in WIDTHS:
        walk = Walk(browser, live_server.url, lang, width)
        shots = bool(SHOTS) and width == 1280 and lang in ("en", "ar")
        try:
            _official_job(walk, demo, (shots and lang == "en") or (shots and lang == "ar"))
            _review_job(walk, demo, shots and lang == "en")
            if SHOTS and width == 375 and lang == "ja":
                walk.sign_in("us_coordinator")
                walk.go(f"/review/{demo['apps']['us_coordination'].pk}/", "phone")
                walk.shot("phone-review-ja", full_page=False)
        finally:
            walk.close()
        problems += walk.problems
        pages += walk.pages
    assert pages > 40
    assert not problems, "\n".join(problems)
