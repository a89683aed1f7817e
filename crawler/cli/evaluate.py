"""`provnews evaluate DIR`: extraction quality on a folder of cases, with floors for CI."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

import click

from provnews.crawler.cli.common import echo
from provnews.crawler.extraction.evaluate import Case, Report, below_floors, evaluate, find_cases
from provnews.crawler.extraction.limits import ExtractionLimitExceeded, LimitedExtractor
from provnews.crawler.parsers import NotAnArticle
from provnews.crawler.sites.families import family_for_url, site_for_url
from provnews.crawler.sites.registry import RegistryError, load_sites

_REPO = Path(__file__).resolve().parents[2]
_FLOOR_OPTIONS = {
    "min_field_accuracy": "field_accuracy",
    "min_text_f1": "text_f1",
    "min_text_precision": "text_precision",
    "min_text_recall": "text_recall",
    "min_paragraph_f1": "paragraph_f1",
}


def default_pages_root() -> Path:
    return Path(os.environ.get("PROVNEWS_SHARED_DIR", _REPO.parent / "shared")) / "fixtures" / "real"


def load_floors(path: Path | None, options: dict[str, float | None]) -> dict[str, float]:
    """Floors from a TOML file (a ``[floors]`` table of summary metric → minimum), then the options."""
    floors: dict[str, float] = {}
    if path is not None:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        floors.update({k: float(v) for k, v in data.get("floors", data).items()})
    floors.update({_FLOOR_OPTIONS[k]: v for k, v in options.items() if v is not None})
    return floors


def _print_report(report: Report, as_json: bool) -> None:
    summary = report.summary()
    if as_json:
        cases = [
            {"case": c.name, "error": c.error, "fields": c.fields, "text_f1": c.shingles.f1}
            for c in report.cases
        ]
        payload = {"summary": summary, "field_accuracy": report.field_accuracy(), "cases": cases}
        echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    for c in report.cases:
        missed = [name for name, ok in c.fields.items() if not ok]
        status = (
            f"error: {c.error}" if c.error else ("fields ok" if not missed else "wrong: " + ", ".join(missed))
        )
        echo(
            f"{c.name}: fields {sum(c.fields.values())}/{len(c.fields)}, paragraph F1 {c.paragraphs.f1:.3f}, "
            f"text P {c.shingles.precision:.3f} R {c.shingles.recall:.3f} F1 {c.shingles.f1:.3f}; {status}"
        )
    echo("\nfield accuracy:")
    for name, value in report.field_accuracy().items():
        echo(f"  {name:<16}{value:7.3f}")
    echo("\nsummary:")
    for name, value in summary.items():
        echo(
            f"  {name:<20}{value:9.4f}" if name not in ("cases", "errors") else f"  {name:<20}{int(value):9d}"
        )


@click.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--pages-root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the real-fixture layout's 'page' paths point (default: ../shared/fixtures/real).",
)
@click.option(
    "--floors", "floors_file", type=click.Path(exists=True, path_type=Path), help="TOML file of floors."
)
@click.option("--min-field-accuracy", type=float, help="Fail below this share of metadata fields right.")
@click.option("--min-text-f1", type=float, help="Fail below this mean 4-word-shingle text F1.")
@click.option("--min-text-precision", type=float, help="Fail below this mean text precision.")
@click.option("--min-text-recall", type=float, help="Fail below this mean text recall.")
@click.option("--min-paragraph-f1", type=float, help="Fail below this mean exact-paragraph F1.")
@click.option("--timeout", type=float, default=5.0, show_default=True, help="Seconds per page (0: no limit).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--sites-file", envvar="PROVNEWS_SITES_FILE", help="Site registry used to pick the family.")
def evaluate_command(
    directory: Path,
    pages_root: Path | None,
    floors_file: Path | None,
    timeout: float,
    as_json: bool,
    sites_file: str | None,
    **floor_options: float | None,
) -> None:
    """Score extraction on DIR's cases (page + expected JSON): per-field accuracy, text precision/recall.

    Exits with status 1 when a metric is below its floor (options or --floors FILE)."""
    try:
        sites = load_sites(sites_file)
        floors = load_floors(floors_file, floor_options)
    except (RegistryError, tomllib.TOMLDecodeError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    cases = find_cases(directory, pages_root or default_pages_root())
    if not cases:
        raise click.ClickException(f"no cases found under {directory}")

    with LimitedExtractor(timeout=timeout) as extractor:

        def run(case: Case) -> tuple[dict[str, Any] | None, str | None]:
            family = case.family or case.expected.get("family") or family_for_url(case.url, sites)
            site = site_for_url(case.url, sites)
            site = site if site is not None and site.family == family else None
            try:
                fields = extractor.extract(case.page.read_bytes(), case.url, family, case.content_type, site)
                return fields.to_dict(), None
            except NotAnArticle as exc:
                return None, f"not an article: {exc.reason}"
            except (ExtractionLimitExceeded, OSError, ValueError) as exc:
                return None, str(exc)

        report = evaluate(cases, run)
    _print_report(report, as_json)
    failures = below_floors(report.summary(), floors)
    if failures:
        for line in failures:
            echo(f"below floor: {line}", err=True)
        raise SystemExit(1)


evaluate_command.name = "evaluate"
