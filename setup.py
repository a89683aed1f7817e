"""Which packages the distribution holds; everything else is declared in pyproject.toml.

The registry and province list are edited in config/ at the repository root and ship inside the
package as `crawler.config` (read through importlib.resources), so a wheel, an editable install and
the egg `scrapyd-deploy` builds all carry the same files; `--sites-file` still overrides the registry."""

from setuptools import find_namespace_packages, setup

setup(
    packages=[*find_namespace_packages(include=["crawler*", "pipelines*"]), "crawler.config"],
    package_dir={"crawler.config": "config"},
    package_data={
        "crawler": ["replica/templates/*", "py.typed"],
        "crawler.config": ["*.toml"],
        "pipelines": ["migrations/*.ini", "migrations/*.py", "migrations/versions/*.py", "py.typed"],
    },
)
