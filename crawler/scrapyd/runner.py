"""A Scrapyd runner for provnews eggs: `runner = crawler.scrapyd.runner` in scrapyd.conf.

Scrapyd's own runner imports a deployed egg as a zip file, appended to sys.path. provnews reads its
package data as files (the registry and province list in provnews/config/, the Alembic migrations),
which cannot be read inside a zip; and an editable install would shadow the deployed code. This runner
extracts the egg to a temporary folder and puts it first on sys.path, then runs Scrapy as Scrapyd's
runner does."""

from __future__ import annotations

import configparser
import os
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def extracted_egg(project: str) -> Iterator[Path | None]:
    from scrapyd.config import Config
    from scrapyd.utils import initialize_component

    storage = initialize_component(Config(), "eggstorage", "scrapyd.eggstorage.FilesystemEggStorage")
    _version, egg = storage.get(project, os.environ.get("SCRAPYD_EGG_VERSION"))
    if egg is None:  # no egg: a project installed beside Scrapyd
        yield None
        return
    folder = Path(tempfile.mkdtemp(prefix=f"{project}-egg-"))
    try:
        with egg, zipfile.ZipFile(egg) as archive:
            archive.extractall(folder)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def settings_module(folder: Path) -> str | None:
    entry_points = configparser.ConfigParser()
    entry_points.read(folder / "EGG-INFO" / "entry_points.txt", encoding="utf-8")
    return entry_points.get("scrapy", "settings", fallback=None)


def main() -> None:
    with extracted_egg(os.environ["SCRAPY_PROJECT"]) as folder:
        if folder is not None:
            sys.path.insert(0, str(folder))
            module = settings_module(folder)
            if module:
                os.environ.setdefault("SCRAPY_SETTINGS_MODULE", module)
            # the deployed code, not another copy already imported by this interpreter
            for name in [n for n in sys.modules if n.split(".")[0] == "provnews"]:
                del sys.modules[name]
        from scrapy.cmdline import execute

        execute()


if __name__ == "__main__":
    main()
