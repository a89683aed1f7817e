"""Only for `scrapyd-deploy`, which builds an egg with `python setup.py bdist_egg`: everything else is
declared in pyproject.toml (pip does not need this file). The egg also carries config/, which the code
reads beside its packages; Scrapyd runs it with `runner = crawler.scrapyd_runner` (README, Scheduling)."""

import sys
from glob import glob

from setuptools import setup

# Only eggs carry config/: a wheel or an editable install must not spread it into the environment.
setup(data_files=[("config", sorted(glob("config/*.toml")))] if "bdist_egg" in sys.argv else [])
