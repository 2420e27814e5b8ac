"""Dashboard panels contributed by the apps above portal (which portal must not import).

Apps register a callable ``(user) -> list[Panel]`` in their AppConfig.ready().
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Panel:
    title: str
    count: int
    url: str
    description: str = ""


_PROVIDERS: list[Callable[[Any], list[Panel]]] = []


def register(provider: Callable[[Any], list[Panel]]) -> None:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def dashboard_panels(user: Any) -> list[Panel]:
    return [panel for provider in _PROVIDERS for panel in provider(user)]
