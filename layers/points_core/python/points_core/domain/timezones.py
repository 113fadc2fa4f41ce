"""An org's time zone. The Lambda runtime may have no time zone database, and the layer brings no tzdata
package, so apply-config stores the zone's compiled rules (TZif) with the org's configuration; the zone is
read from the system database where there is one and from those rules otherwise."""

from __future__ import annotations

import base64
import io
import zoneinfo
from datetime import tzinfo
from functools import lru_cache
from importlib import resources
from pathlib import Path

from points_core.domain.errors import UnknownTimeZone
from points_core.domain.models import OrgConfig


def zone_rules(name: str) -> str:
    """The compiled rules of a zone, base64, from the system database or the tzdata package."""
    zoneinfo.ZoneInfo(name)  # the name is valid somewhere: ZoneInfoNotFoundError otherwise
    if ".." in name or name.startswith("/"):
        raise UnknownTimeZone(name)
    for directory in zoneinfo.TZPATH:
        candidate = Path(directory) / name
        if candidate.is_file():
            return base64.b64encode(candidate.read_bytes()).decode()
    package, _, leaf = f"tzdata.zoneinfo.{name.replace('/', '.')}".rpartition(".")
    return base64.b64encode(resources.files(package).joinpath(leaf).read_bytes()).decode()


@lru_cache(maxsize=64)
def _zone(name: str, rules: str) -> tzinfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except zoneinfo.ZoneInfoNotFoundError:
        if not rules:
            raise UnknownTimeZone(
                f"{name}: no time zone database here and no rules in the configuration"
            ) from None
        return zoneinfo.ZoneInfo.from_file(io.BytesIO(base64.b64decode(rules)), key=name)


def org_zone(org: OrgConfig) -> tzinfo:
    return _zone(org.timezone, org.timezone_rules)
