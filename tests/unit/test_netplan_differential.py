"""Differential test: bondd's verdict on netplan files equals netplan 0.106's own.

Each case of the corpus (tests/unit/netplan_corpus.py: one-key probes of
netplan's parser tables, seeds, mutations, multi-file merges; more than
2,000 directories) is given to netplan's `generate` (unpacked by
scripts/setup.sh, never installed) and to `bondd.config.check`. A file
netplan accepts must validate (warnings and notes allowed); a file netplan
rejects must fail with an error that names file, line and column. Where
bondd must disagree, the case is listed in `DELIBERATE` with the reason,
and a listed case that stops disagreeing fails too, so the list stays true.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bondd import config
from bondd import options as opt
from bondd.config import keys
from bondd.model import Severity
from tests.unit import netplan_corpus, netplan_lab

pytestmark = pytest.mark.unit

_BONDD_PARAMS = sorted(k for o in opt.OPTIONS if not o.netplan for k in o.yaml_keys)
_UNMANAGED = "|".join(sorted(keys.UNMANAGED_KINDS))


def _has(pattern: str) -> Callable[[str], bool]:
    compiled = re.compile(pattern, re.MULTILINE)
    return lambda text: compiled.search(text) is not None


# (test on the files' text, why bondd and netplan 0.106 must disagree there)
DELIBERATE: tuple[tuple[Callable[[str], bool], str], ...] = (
    (
        _has(r"^bondd:"),
        "the `bondd:` section is bondd's own (probes, LACP gate, strict); netplan knows no such"
        " key",
    ),
    (
        _has(r"\b(" + "|".join(map(re.escape, _BONDD_PARAMS)) + r"):"),
        "bond options netplan lacks (lacp-active, arp-missed-max, ns-ip6-targets, ...) are"
        " bondd's extensions of `parameters`",
    ),
    (
        _has(r"^  (" + _UNMANAGED + r"):"),
        "bondd manages bonds, their ports and VLANs; a section of another device kind is an"
        " error that says to keep it in /etc/netplan",
    ),
)


def deliberate(files: dict[str, str]) -> str | None:
    text = "\n".join(files.values())
    for test, reason in DELIBERATE:
        if test(text):
            return reason
    return None


def _first_line(message: str) -> str:
    lines = [line for line in message.splitlines() if "Error" in line or "ERROR" in line]
    return (lines or message.splitlines() or [""])[0]


def bondd_verdict(files: dict[str, str], workdir: Path) -> tuple[bool, str]:
    directory = workdir / "bondd"
    directory.mkdir(parents=True)
    for name, text in files.items():
        (directory / name).write_text(text)
    result = config.check([directory], explicit=True)
    errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    for error in errors:
        assert error.pos is not None and error.pos.line >= 1, error.format()
    return result.ok, "; ".join(d.format().replace(str(directory) + "/", "") for d in errors)


def compare(case: netplan_corpus.Case, workdir: Path) -> tuple[str, bool, bool, str, str]:
    workdir.mkdir(parents=True)
    netplan_ok, netplan_says = netplan_lab.verdict(case.files, workdir)
    bondd_ok, bondd_says = bondd_verdict(case.files, workdir)
    return case.name, netplan_ok, bondd_ok, netplan_says, bondd_says


def run_corpus(tmp: Path) -> list[tuple[str, bool, bool, str, str]]:
    cases = netplan_corpus.corpus()
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda n: compare(cases[n], tmp / str(n)), range(len(cases))))


def test_bondd_agrees_with_netplan_on_the_corpus(tmp_path: Path) -> None:
    assert netplan_lab.available(), (
        f"netplan 0.106 is not unpacked at {netplan_lab.ROOT}: run scripts/setup.sh"
    )
    cases = {c.name: c for c in netplan_corpus.corpus()}
    assert len(cases) >= 2000
    results = run_corpus(tmp_path)
    wrong: list[str] = []
    explained = {reason: 0 for _, reason in DELIBERATE}
    for name, netplan_ok, bondd_ok, netplan_says, bondd_says in results:
        if netplan_ok == bondd_ok:
            continue
        reason = deliberate(cases[name].files)
        if reason is not None:
            explained[reason] += 1
            continue
        wrong.append(
            f"{name}: netplan {'accepts' if netplan_ok else 'rejects'}"
            f" ({_first_line(netplan_says)}),"
            f" bondd {'accepts' if bondd_ok else 'rejects'} ({bondd_says[:200]})"
        )
    assert not wrong, f"{len(wrong)} of {len(results)} disagree:\n" + "\n".join(wrong[:60])
    # Each listed disagreement must still happen, so the list stays true.
    assert all(explained.values()), explained
