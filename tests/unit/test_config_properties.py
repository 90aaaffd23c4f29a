"""Property tests: no input, however odd, gets past config with anything but diagnostics.

Arbitrary YAML documents, arbitrary text and random mutations of a valid
config must give a `CheckResult` (and `load_desired` only `ConfigError`),
never another exception; and what they give is a diagnosis an admin can act
on: every finding names the file and a line inside it, prints as one line,
and the same input is diagnosed the same way twice; a document that is not
a mapping, or text that is not YAML, is an error, never silently accepted.
"""

from __future__ import annotations

import contextlib
import tempfile
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bondd import options as opt
from bondd.config import CheckResult, check_text, load_desired
from bondd.errors import ConfigError
from bondd.model import Severity

pytestmark = pytest.mark.unit

VALID = textwrap.dedent("""
    network:
      version: 2
      ethernets:
        eno1: {}
        eno2: {match: {macaddress: "52:54:00:12:34:02"}}
      bonds:
        bond0:
          interfaces: [eno1, eno2]
          parameters:
            mode: active-backup
            mii-monitor-interval: 100
            primary: eno1
          addresses: [192.168.10.20/24]
          routes: [{to: default, via: 192.168.10.1}]
      vlans:
        bond0.100: {id: 100, link: bond0}
    bondd:
      probes: [{type: ping, target: 192.168.10.1}]
""")

KEYS = sorted(
    opt.yaml_keys()
    | {
        "network",
        "bonds",
        "ethernets",
        "vlans",
        "interfaces",
        "parameters",
        "match",
        "addresses",
        "routes",
        "id",
        "link",
        "bondd",
        "probes",
        "mode",
    }
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(KEYS),
    st.sampled_from(["802.3ad", "layer3+4", "10.0.0.1", "10.0.0.1/24", "eno1", "100ms", "::/0"]),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=10)), inner, max_size=5),
    ),
    max_leaves=40,
)


def diagnosed(text: str) -> CheckResult:
    """Check `text` as t.yaml and assert the diagnosis is one an admin can act on."""
    result = check_text(text, "t.yaml")
    assert isinstance(result, CheckResult)
    # A line of the file, or the one just past its end: where YAML that stops
    # too early (an unclosed "[") is found wanting.
    lines = text.count("\n") + 2
    for diagnostic in result.diagnostics:
        assert diagnostic.message.strip(), diagnostic
        assert diagnostic.pos is not None, f"no file and line: {diagnostic.format()}"
        assert diagnostic.pos.file == "t.yaml"
        assert 1 <= diagnostic.pos.line <= lines, (diagnostic.format(), lines)
        printed = diagnostic.format()
        assert "\n" not in printed and printed.startswith(f"t.yaml:{diagnostic.pos.line}:")
    assert result.ok == (not any(d.severity is Severity.ERROR for d in result.diagnostics))
    again = check_text(text, "t.yaml")
    assert again.diagnostics == result.diagnostics, "the same input, diagnosed differently"
    return result


@settings(max_examples=300, deadline=None)
@given(documents)
def test_arbitrary_documents_give_diagnostics(document: object) -> None:
    diagnosed(yaml.safe_dump({"network": document}))
    result = diagnosed(yaml.safe_dump(document))
    if not isinstance(document, dict):
        assert not result.ok, "a document that is not a mapping was accepted"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_gives_diagnostics(text: str) -> None:
    result = diagnosed(text)
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError:
        assert not result.ok, "text that is not YAML was accepted"
        return
    if parsed is not None and not isinstance(parsed, dict):
        assert not result.ok, "a document that is not a mapping was accepted"


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutations_of_a_valid_config_give_diagnostics(data: st.DataObject) -> None:
    document = yaml.safe_load(VALID)
    assert diagnosed(yaml.safe_dump(document)).ok
    paths: list[tuple[object, object]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                paths.append((node, key))
                walk(value)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                paths.append((node, index))
                walk(value)

    walk(document)
    for _ in range(data.draw(st.integers(1, 4))):
        parent, key = data.draw(st.sampled_from(paths))
        replacement = data.draw(documents)
        _set(parent, key, replacement)
    diagnosed(yaml.safe_dump(document))


def _set(parent: object, key: object, value: object) -> None:
    if isinstance(parent, dict):
        parent[key] = value
        return
    if isinstance(parent, list) and isinstance(key, int):
        parent[key] = value


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_in_a_file(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        (Path(directory) / "x.yaml").write_bytes(raw)
        try:
            load_desired([Path(directory)], explicit=True)
        except ConfigError as exc:
            assert exc.diagnostics


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([opt.by_kernel_name(n) for n in sorted(o.kernel_name for o in opt.OPTIONS)]),
    documents,
)
def test_option_parsers_raise_only_their_own_error(option: opt.BondOption, raw: object) -> None:
    with contextlib.suppress(opt.OptionValueError):
        opt.parse_yaml_value(option, raw)
