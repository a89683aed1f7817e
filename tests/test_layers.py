"""The import map of docs/architecture.md, checked: layers from pure helpers up to the CLI, no module
importing a layer above its own, and storage reached from outside only through `provnews.storage`."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.paths import REPO

FOLDERS = ("config", "crawler", "pipelines", "storage")

# bottom to top; a module belongs to the layer of the longest prefix that names it
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "pure helpers and data",
        (
            "provnews.config",
            "provnews.crawler.sites",
            "provnews.crawler.text",
            "provnews.crawler.discovery.urls",
            "provnews.crawler.items",
            "provnews.crawler.parsers.fields",
        ),
    ),
    ("extraction", ("provnews.crawler.parsers", "provnews.crawler.extraction")),
    ("storage", ("provnews.storage",)),
    (
        "the crawl",
        (
            "provnews.crawler.settings",
            "provnews.crawler.spiders",
            "provnews.crawler.discovery",
            "provnews.crawler.runs",
            "provnews.crawler.middlewares",
            "provnews.crawler.extensions",
            "provnews.crawler.politeness",
            "provnews.crawler.commands",
            "provnews.pipelines",
        ),
    ),
    (
        "jobs",
        (
            "provnews.crawler.runs.runner",
            "provnews.crawler.scrapyd",
            "provnews.crawler.canary",
            "provnews.crawler.onboard",
            "provnews.crawler.replica",
            "provnews.crawler.extraction.evaluate",
            "provnews.crawler.extraction.reextract",
        ),
    ),
    ("command line", ("provnews.crawler.cli",)),
]


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(("provnews", *parts))


def layer_of(module: str) -> int:
    if module in ("provnews.crawler", "provnews.pipelines"):  # empty packages: the folders themselves
        return 0
    best, best_length = -1, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            named = module == prefix or module.startswith(prefix + ".")
            if named and len(prefix) > best_length:
                best, best_length = index, len(prefix)
    assert best >= 0, f"{module} belongs to no layer: add it to LAYERS and docs/architecture.md"
    return best


def imports_of(path: Path) -> list[str]:
    """The provnews modules `path` imports (a `from package import name` counts as the package)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.startswith("provnews.")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("provnews."):
            found.append(node.module)
    return found


def modules() -> list[Path]:
    return [
        p for folder in FOLDERS for p in sorted((REPO / folder).rglob("*.py")) if "migrations" not in p.parts
    ]


def test_every_module_has_a_layer() -> None:
    for path in modules():
        layer_of(module_name(path))


def test_no_module_imports_upward() -> None:
    upward = []
    for path in modules():
        name = module_name(path)
        own = layer_of(name)
        for imported in imports_of(path):
            theirs = layer_of(imported)
            if theirs > own:
                upward.append(f"{name} ({LAYERS[own][0]}) imports {imported} ({LAYERS[theirs][0]})")
    assert not upward, "\n".join(upward)


def test_storage_is_reached_through_its_public_api() -> None:
    private = []
    for path in modules():
        name = module_name(path)
        if name.startswith("provnews.storage"):
            continue
        private += [f"{name} imports {m}" for m in imports_of(path) if m.startswith("provnews.storage.")]
    assert not private, "\n".join(private)


def test_the_public_api_names_only_what_exists() -> None:
    import provnews.storage as storage

    for name in storage.__all__:
        assert getattr(storage, name) is not None, name


def documented_paths() -> set[str]:
    """Paths named in docs/architecture.md; in a table cell, a bare `name.py` after `folder/x.py`
    is `folder/name.py`."""
    named: set[str] = set()
    for line in (REPO / "docs" / "architecture.md").read_text(encoding="utf-8").splitlines():
        for cell in line.split("|"):
            folder = ""
            for token in re.findall(r"`([\w./{},-]+)`", cell):
                if token.endswith((".py", "/")) and "/" in token.rstrip("/"):
                    folder = token.rsplit("/", 1)[0] + "/" if token.endswith(".py") else token
                    named.add(token)
                elif token.endswith(".py") and folder:
                    named.add(folder + token)
                elif token.endswith("/") and token.rstrip("/") in FOLDERS:
                    named.add(token)
    return named


def test_the_architecture_map_matches_the_tree() -> None:
    named = documented_paths()
    missing = [n for n in sorted(named) if "{" not in n and not (REPO / n).exists()]
    assert not missing, f"docs/architecture.md names what is not in the tree: {missing}"
    expanded = set(named)
    for n in named:  # `pipelines/{extract,normalize}.py`
        if m := re.fullmatch(r"(.*)\{(.*)\}(.*)", n):
            expanded |= {m.group(1) + part + m.group(3) for part in m.group(2).split(",")}
    folders = {n for n in named if n.endswith("/") and n.rstrip("/") not in FOLDERS}
    undocumented = [
        rel
        for path in modules()
        if path.name != "__init__.py"
        and (rel := path.relative_to(REPO).as_posix()) not in expanded
        and not any(rel.startswith(folder) for folder in folders)
    ]
    assert not undocumented, f"modules missing from docs/architecture.md: {undocumented}"
