"""Reading the versioned data files shipped in ``peelian/offences/data`` (or given by the user).

CSV files start with ``# key: value`` lines (name, version, source, licence, ...), then a header
row. YAML files carry ``name``, ``version`` and ``source`` keys. Both keep their provenance with
the frame or mapping they produce, so a table always says where it came from.
"""

from __future__ import annotations

import io
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from peelian.offences._errors import OffenceDefinitionError

__all__ = ["data_path", "read_meta_csv", "read_yaml"]


def data_path(*parts: str) -> Path:
    """Path of a file in the package's ``data`` folder."""
    return Path(str(resources.files("peelian.offences") / "data")).joinpath(*parts)


def read_meta_csv(path: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """A CSV with ``# key: value`` header lines: ``(frame of strings, metadata)``."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise OffenceDefinitionError(
            f"Cannot read the offence data file {path}: {exc.strerror}.",
            "Check the path (or reinstall peelian if it is a shipped file).",
        ) from exc
    meta: dict[str, str] = {}
    body: list[str] = []
    for line in text.splitlines():
        if line.startswith("#") and not body:
            key, _, value = line.lstrip("#").partition(":")
            if value:
                meta[key.strip()] = value.strip()
        else:
            body.append(line)
    frame = pd.read_csv(io.StringIO("\n".join(body)), dtype=str, keep_default_na=False)
    return frame, meta


@lru_cache(maxsize=64)
def _read_yaml_cached(path: str, mtime: float) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise OffenceDefinitionError(
            f"Cannot read the definitions file {path}: {exc.strerror}.",
            "Check the path.",
        ) from exc
    except yaml.YAMLError as exc:
        raise OffenceDefinitionError(
            f"The definitions file {path} is not valid YAML: {exc}.",
            "Fix the indentation or quoting at the line shown.",
        ) from exc
    if not isinstance(doc, dict):
        raise OffenceDefinitionError(
            f"The definitions file {path} must hold a mapping at the top level.",
            "See docs/guide/offences.md for the format.",
        )
    return doc


def read_yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping (cached by path and modification time)."""
    p = Path(path)
    mtime = p.stat().st_mtime if p.exists() else -1.0
    return _read_yaml_cached(str(p.resolve()), mtime)
