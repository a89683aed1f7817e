"""Only for `scrapyd-deploy`, which builds an egg with `python setup.py bdist_egg`: everything else is
declared in pyproject.toml (pip does not need this file). The egg also carries config/, which the code
reads beside its packages; run it with `runner = crawler.scrapyd_runner` (see README, Scheduling)."""

from glob import glob

from setuptools import setup

setup(data_files=[("config", sorted(glob("config/*.toml")))])
