"""The scheduling files of docs/scheduling: systemd units that `systemd-analyze verify` accepts (the
syntax is also checked without it), and crontab lines with valid schedules that run `provnews`."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

from provnews.crawler.cli.crawl import EXIT_STATUS, LOCKED_EXIT
from tests.paths import REPO, REQUIRE_SERVICES, missing

DOCS = REPO / "docs" / "scheduling"
FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$")
RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


def units(tmp_path: Path) -> list[Path]:
    """The unit files with /opt/provnews pointing at this checkout, so that ExecStart exists."""
    out = []
    for name in ("provnews-crawl.service", "provnews-crawl.timer"):
        target = tmp_path / name
        target.write_text((DOCS / name).read_text(encoding="utf-8").replace("/opt/provnews", str(REPO)))
        out.append(target)
    return out


def parse_unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=True, interpolation=None, comment_prefixes=("#", ";"))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def test_units_parse_and_point_at_each_other(tmp_path: Path) -> None:
    service, timer = (parse_unit(p) for p in units(tmp_path))
    assert service.sections() == ["Unit", "Service"]
    assert service["Service"]["Type"] == "oneshot"
    exec_start = service["Service"]["ExecStart"].split()
    assert exec_start[0].endswith("/.venv/bin/provnews") and exec_start[1:] == ["crawl"]
    assert Path(exec_start[0]).is_file()
    assert service["Service"]["KillSignal"] == "SIGTERM"
    assert timer.sections() == ["Unit", "Timer", "Install"]
    assert timer["Timer"]["Unit"] == "provnews-crawl.service"
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Install"]["WantedBy"] == "timers.target"


def test_systemd_analyze_verifies_the_units(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        missing("systemd-analyze not found (Debian package systemd)", REQUIRE_SERVICES)
    paths = units(tmp_path)
    result = subprocess.run(
        [tool, "verify", "--man=no", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    calendar = subprocess.run(
        [tool, "calendar", parse_unit(paths[1])["Timer"]["OnCalendar"]],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert calendar.returncode == 0 and "Next elapse" in calendar.stdout, calendar.stderr


def test_crontab_lines_are_valid() -> None:
    lines = [
        line
        for line in (DOCS / "crontab").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert len(lines) == 2
    for line in lines:
        fields = line.split(None, 5)
        for value, (low, high) in zip(fields[:5], RANGES, strict=True):
            assert FIELD.match(value), (value, line)
            numbers = [int(n) for n in re.findall(r"\d+", value.split("/")[0])]
            assert all(low <= n <= high for n in numbers), (value, line)
        command = fields[5]
        assert ".venv/bin/provnews" in command
    assert lines[0].split(None, 5)[5].endswith("provnews crawl")
    assert " health " in lines[1]


def test_the_service_counts_the_right_exit_statuses_as_success(tmp_path: Path) -> None:
    """Locked (3) and stopped (5) are not failures; failed (1) and partial (4) are: systemd reports them."""
    service = parse_unit(units(tmp_path)[0])
    success = {int(code) for code in service["Service"]["SuccessExitStatus"].split()}
    assert success == {LOCKED_EXIT, EXIT_STATUS["interrupted"]}
    assert not success & {EXIT_STATUS["failed"], EXIT_STATUS["partial"]}
