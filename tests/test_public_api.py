"""provnews extends Scrapy through public settings, signals and components; what has no public route
lives in `crawler/politeness/scrapy_private.py` alone. An AST scan of `crawler/`, `pipelines/` and
`storage/` fails on any other use of a private Scrapy, Twisted or Protego attribute: a `_name` of their
classes (overridden, called on `self`/`super()`, or read from one of their objects), a `_name` imported from
them, or one of the public-looking internals provnews once reached into (Protego's parser behind `rp`,
download slots)."""

from __future__ import annotations

import ast
import contextlib
import functools
import importlib
import inspect
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.paths import REPO as ROOT

FOREIGN = ("scrapy", "twisted", "protego")
PRIVATE_MODULE = ROOT / "crawler" / "politeness" / "scrapy_private.py"
# Public names that are internals all the same: Protego's parser inside Scrapy's RobotParser, the
# downloader's slots and their bookkeeping, RobotsTxtMiddleware's second half.
KNOWN = {"rp", "slots", "per_slot_settings", "lastseen", "transferring", "process_request_2"}


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def is_foreign(module: str | None) -> bool:
    return bool(module) and module.split(".")[0] in FOREIGN  # type: ignore[union-attr]


def private_names_in(tree: ast.AST) -> set[str]:
    """The private names a piece of code defines: methods, class attributes, `self._x = ...`."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and is_private(node.name):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and is_private(node.attr):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and is_private(node.id):
            names.add(node.id)
    return names


@functools.cache
def foreign_private_names() -> frozenset[str]:
    """Every private name Scrapy, Twisted's reactor and Protego define."""
    names: set[str] = set()
    for package in ("scrapy", "protego", "twisted.internet", "twisted.python", "twisted.web"):
        root = Path(importlib.import_module(package).__file__ or "").parent
        for path in root.rglob("*.py"):
            if "test" in path.parts[-1] or "test" in path.parent.name:
                continue
            names |= private_names_in(ast.parse(path.read_text(encoding="utf-8", errors="replace")))
    return frozenset(names)


@functools.cache
def private_names_of(cls: type) -> frozenset[str]:
    """The private names of a foreign class and its foreign bases (methods and instance attributes)."""
    names: set[str] = set()
    for base in cls.__mro__:
        if not is_foreign(base.__module__):
            continue
        names |= {name for name in vars(base) if is_private(name)}
        with contextlib.suppress(OSError, TypeError):  # no source: its vars() are enough
            names |= private_names_in(ast.parse(textwrap.dedent(inspect.getsource(base))))
    return frozenset(names)


@dataclass(frozen=True)
class Use:
    path: str
    line: int
    what: str


def foreign_imports(tree: ast.Module) -> dict[str, object]:
    """Local name -> the foreign object it was imported as."""
    found: dict[str, object] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and is_foreign(node.module):
            for alias in node.names:
                try:
                    found[alias.asname or alias.name] = getattr(
                        importlib.import_module(node.module or ""), alias.name
                    )
                except (ImportError, AttributeError):
                    continue
    return found


def private_uses(source: str, path: str = "<snippet>", own: frozenset[str] = frozenset()) -> list[Use]:
    """The uses of foreign private attributes in a module's source; `own` are private names that
    provnews itself defines (read on one of its own objects, they are no use of Scrapy's)."""
    tree = ast.parse(source)
    imported = foreign_imports(tree)
    uses: list[Use] = []

    def use(node: ast.AST, what: str) -> None:
        uses.append(Use(path, getattr(node, "lineno", 0), what))

    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and is_foreign(node.module):
            for alias in node.names:
                if is_private(alias.name):
                    use(node, f"imports {node.module}.{alias.name}")
    foreign_classes: dict[ast.ClassDef, frozenset[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            bases = [imported.get(b.id) for b in node.bases if isinstance(b, ast.Name)]
            names = frozenset().union(*(private_names_of(b) for b in bases if isinstance(b, type)))
            if names:
                foreign_classes[node] = names
    inside: dict[ast.AST, frozenset[str]] = {}  # node -> private names of the foreign class it is in
    for cls, names in foreign_classes.items():
        for item in cls.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name in names | KNOWN:
                use(item, f"overrides {cls.name}.{item.name}")
        for sub in ast.walk(cls):
            inside[sub] = names
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            value = node.value
            on_self = (isinstance(value, ast.Name) and value.id in ("self", "cls")) or (
                isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "super"
            )
            if node.attr in KNOWN:
                use(node, f".{node.attr}")
            elif not is_private(node.attr):
                continue
            elif on_self:
                if node.attr in inside.get(node, frozenset()):
                    use(node, f"self.{node.attr} (inherited)")
            elif node.attr in foreign_private_names() and node.attr not in own:
                use(node, f".{node.attr}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            name = node.args[1].value
            if name in KNOWN or (name in foreign_private_names() and name not in own):
                use(node, f"{node.func.id}(..., {name!r})")
    return uses


def project_files() -> list[Path]:
    return sorted(
        path
        for folder in ("crawler", "pipelines", "storage")
        for path in (ROOT / folder).rglob("*.py")
        if path != PRIVATE_MODULE and "migrations" not in path.parts
    )


def own_private_names() -> frozenset[str]:
    """The private names provnews's own code defines, outside its subclasses of foreign classes."""
    names: set[str] = set()
    for path in project_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = foreign_imports(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(imported.get(b.id), type) for b in node.bases if isinstance(b, ast.Name)
            ):
                continue
            if isinstance(node, (ast.ClassDef, ast.Module)):
                names |= private_names_in(node)
    return frozenset(names)


def test_no_private_scrapy_twisted_or_protego_outside_scrapy_private() -> None:
    own = own_private_names()
    uses = [
        use
        for path in project_files()
        for use in private_uses(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)), own)
    ]
    assert uses == [], "\n".join(f"{u.path}:{u.line}: {u.what}" for u in uses)


@pytest.mark.parametrize(
    ("source", "what"),
    [
        (  # the old AutoThrottle floor
            "from scrapy.extensions.throttle import AutoThrottle\n"
            "class T(AutoThrottle):\n"
            "    def _adjust_delay(self, slot, latency, response):\n"
            "        super()._adjust_delay(slot, latency, response)\n",
            {"overrides T._adjust_delay", "self._adjust_delay (inherited)"},
        ),
        (  # the old retry middleware
            "from scrapy.downloadermiddlewares.retry import RetryMiddleware\n"
            "class R(RetryMiddleware):\n"
            "    def process_exception(self, request, exception):\n"
            "        return self._retry(request, exception)\n",
            {"self._retry (inherited)"},
        ),
        (  # the old robots middleware
            "from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware\n"
            "class M(RobotsTxtMiddleware):\n"
            "    def process_request_2(self, rp, request):\n"
            "        self._stats.inc_value('x')\n"
            "        return getattr(rp, 'rp', None)\n",
            {"overrides M.process_request_2", "self._stats (inherited)", "getattr(..., 'rp')"},
        ),
        (  # slots reached from anywhere, and a private helper imported
            "from scrapy.utils.defer import _process_pending_io\n"
            "def pause(engine, key):\n"
            "    slot = engine.downloader.slots.get(key)\n"
            "    slot.lastseen = 0\n"
            "    return engine._slot\n",
            {"imports scrapy.utils.defer._process_pending_io", ".slots", ".lastseen", "._slot"},
        ),
    ],
)
def test_the_scan_finds_the_private_uses_provnews_had(source: str, what: set[str]) -> None:
    """The scan would have failed on the overrides this module replaced."""
    assert {use.what for use in private_uses(source)} >= what


def test_the_scan_leaves_provnews_own_private_names_alone() -> None:
    source = (
        "from scrapy import Spider\n"
        "class Ledger:\n"
        "    def _close(self, url):\n"
        "        return self._open.pop(url)\n"
        "class News(Spider):\n"
        "    def _settle(self, url):\n"
        "        return self.ledger._close(url)\n"
    )
    assert private_uses(source, own=frozenset({"_close", "_open"})) == []
