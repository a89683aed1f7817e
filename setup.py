"""Which packages the distribution holds; everything else is declared in pyproject.toml.

The repository keeps its top-level folders (`crawler/`, `pipelines/`, `storage/`, `config/`); installed,
they are the packages `provnews.crawler`, `provnews.pipelines`, `provnews.storage` and `provnews.config`,
so nothing generic like `crawler` lands at the top of site-packages. The registry and province list are
edited in config/ and ship as package data of `provnews.config` (read through importlib.resources), so a
wheel, an editable install and the egg `scrapyd-deploy` builds all carry the same files."""

from setuptools import find_namespace_packages, setup

FOLDERS = ("crawler", "pipelines", "storage", "config")

setup(
    packages=[
        f"provnews.{package}"
        for package in find_namespace_packages(include=[f"{folder}*" for folder in FOLDERS])
        if "__pycache__" not in package
    ],
    package_dir={f"provnews.{folder}": folder for folder in FOLDERS},
    package_data={
        "provnews.crawler": ["replica/templates/*", "py.typed"],
        "provnews.config": ["*.toml"],
        "provnews.pipelines": ["py.typed"],
        "provnews.storage": ["migrations/*.ini", "migrations/*.py", "migrations/versions/*.py", "py.typed"],
    },
)
