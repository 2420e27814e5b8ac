"""The benchmark's baseline and no-op views are reachable only with the bench settings."""

import pytest
from django.urls import Resolver404, resolve

import bench.minimal_urls
import bench.urls
from portal import urls as portal_urls


@pytest.mark.parametrize("path", ["/api/bench/noop/", "/bench/bare/"])
def test_bench_views_are_not_in_the_production_urlconf(path: str) -> None:
    with pytest.raises(Resolver404):
        resolve(path, urlconf="portal.urls")


def test_the_portal_bench_urlconf_adds_only_the_noop_view() -> None:
    view = resolve("/api/bench/noop/", urlconf=bench.urls).func.view_class  # type: ignore[attr-defined]
    assert view is bench.urls.PortalNoop
    assert len(bench.urls.urlpatterns) == len(portal_urls.urlpatterns) + 1


def test_the_minimal_stack_serves_plain_views_at_the_portal_paths() -> None:
    plain = resolve("/api/v1/applications/", urlconf=bench.minimal_urls).func
    assert plain.view_class is bench.minimal_urls.ApplicationList  # type: ignore[attr-defined]
    portal = resolve("/api/v1/applications/", urlconf="portal.urls").func
    assert portal.cls.__module__ == "partnerships.api"  # type: ignore[attr-defined]
