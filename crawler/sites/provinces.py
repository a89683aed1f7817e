"""Vietnam's provincial-level units: the 34 since 1 July 2025 and the 63 they were formed from.

The data is `config/provinces.toml`, shipped as package data of `config` (setup.py); this
module reads and checks it once, at import.
`UNITS` are the names `province` takes in the registry and the corpus, `OLD_PROVINCES` the names of
`province_old`, and `UNIT_OF` maps each old province to the unit that absorbed it.
"""

from __future__ import annotations

import difflib
import importlib.resources
import tomllib
import unicodedata
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError


def packaged_file(name: str) -> Path:
    """A file of the repository's config/, as installed with the package (wheel, editable or egg)."""
    return Path(str(importlib.resources.files("provnews.config") / name))


PROVINCES_FILE = packaged_file("provinces.toml")
UNIT_COUNT = 34
OLD_PROVINCE_COUNT = 63


class Unit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    kind: Literal["city", "province"]
    old: list[str]


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit: list[Unit]


def nfc(name: str) -> str:
    return unicodedata.normalize("NFC", name.strip())


def load_units(path: Path = PROVINCES_FILE) -> list[Unit]:
    """The units of a provinces file; ValueError unless it has 34 units partitioning 63 old provinces."""
    try:
        data = _File.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ValueError(f"{path}: {exc}") from exc
    units = [Unit(name=nfc(u.name), kind=u.kind, old=[nfc(o) for o in u.old]) for u in data.unit]
    names = [u.name for u in units]
    olds = [o for u in units for o in u.old]
    if len(set(names)) != UNIT_COUNT or len(names) != UNIT_COUNT:
        raise ValueError(f"{path}: expected {UNIT_COUNT} distinct units, found {len(set(names))}")
    if len(set(olds)) != OLD_PROVINCE_COUNT or len(olds) != OLD_PROVINCE_COUNT:
        raise ValueError(f"{path}: expected {OLD_PROVINCE_COUNT} old provinces, each in one unit")
    return units


_UNITS = load_units()
UNITS: list[str] = [u.name for u in _UNITS]
CITIES: frozenset[str] = frozenset(u.name for u in _UNITS if u.kind == "city")
OLD_PROVINCES: list[str] = [o for u in _UNITS for o in u.old]
UNIT_OF: dict[str, str] = {o: u.name for u in _UNITS for o in u.old}
ABSORBED: dict[str, list[str]] = {u.name: u.old[1:] for u in _UNITS}


def unknown_name_message(name: str, choices: list[str], what: str) -> str:
    """'not one of the …' with the closest names, for registry error messages."""
    close = difflib.get_close_matches(nfc(name), choices, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"{name!r} is not one of the {len(choices)} {what} (config/provinces.toml){hint}"
