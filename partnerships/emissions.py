"""Estimated annual CO2 of a data-centre site (docs/emissions.md).

    tCO2e/yr = capacity_MW × PUE × 8,760 h × utilisation × Σ(share_i × EF_i) / 1,000

with shares as fractions of 1 and EF in gCO2e/kWh: MW × h = MWh; × 1,000 = kWh; × g/kWh = g;
÷ 1,000,000 = t — hence ÷ 1,000 overall. (The "/ 1,000,000" in shared/DOMAIN.md holds for
capacity in kW; with MW it overstates by 1,000. Its own Abilene check, 360.5 MW of gas at
370–490 g/kWh ≈ 1.2–1.5 Mt/yr, agrees with ÷ 1,000.)
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path

from django.utils.translation import gettext_lazy as _

FACTORS_FILE = Path(__file__).parent / "data" / "emission_factors.csv"
HOURS_PER_YEAR = Decimal(8760)
# Assumptions, not facts: overridable per site. PUE 1.2 is typical of new hyperscale builds;
# 80 % average utilisation of the IT capacity.
DEFAULT_PUE = Decimal("1.2")
DEFAULT_UTILISATION = Decimal("0.8")


#: What each source of the factors file is called on a page (the file's names are codes).
SOURCE_LABELS = {
    "coal": _("Coal"),
    "gas": _("Gas"),
    "biomass": _("Biomass"),
    "solar": _("Solar (utility)"),
    "solar_rooftop": _("Solar (rooftop)"),
    "csp": _("Concentrated solar"),
    "geothermal": _("Geothermal"),
    "hydro": _("Hydropower"),
    "nuclear": _("Nuclear"),
    "wind": _("Wind (onshore)"),
    "wind_offshore": _("Wind (offshore)"),
    "grid": _("Grid (unspecified)"),
}


def source_label(source: str) -> str:
    """The reader's-language name of an energy source code (the code if it has none)."""
    return str(SOURCE_LABELS.get(source, source))


@cache
def emission_factors() -> dict[str, Decimal]:
    """Source name → gCO2e/kWh, from the shipped data file."""
    with FACTORS_FILE.open(encoding="utf-8") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return {row["source"]: Decimal(row["g_co2e_per_kwh"]) for row in rows}


def annual_tonnes(
    *,
    capacity_mw: Decimal,
    energy_mix: Mapping[str, int | Decimal],
    pue: Decimal | None = None,
    utilisation: Decimal | None = None,
) -> Decimal:
    factors = emission_factors()
    intensity = sum(
        (Decimal(share) / 100 * factors[source] for source, share in energy_mix.items()), Decimal(0)
    )
    tonnes = (
        Decimal(capacity_mw)
        * (pue or DEFAULT_PUE)
        * HOURS_PER_YEAR
        * (utilisation or DEFAULT_UTILISATION)
        * intensity
        / 1000
    )
    return tonnes.quantize(Decimal("0.1"))
