"""The hostile configuration corpus: each case is a set of files for one config dir.

Small cases are written out here; large ones (100,000 `[`, a file over the
size limit) are generated, so the repository holds no megabytes. Each case
must end in exit 65 with FILE:LINE (or 0 with a warning naming the file),
never a traceback, exit 70, a signal or a time-out, under a 1 GiB address
space, on both PyYAML versions bondd runs with.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def bond(
    name: str = "bond0", ports: str = "[eno1, eno2]", params: str = "", extra: str = ""
) -> str:
    """A valid bond file with one part replaced by something hostile."""
    return (
        "network:\n  version: 2\n  ethernets: {eno1: {}, eno2: {}}\n  bonds:\n"
        f"    {name}:\n      interfaces: {ports}\n{extra}"
        f"      parameters: {{mode: active-backup, {params}}}\n"
    )


def _merge_chain(levels: int) -> str:
    # Each level merges the previous one twice: 2**levels entries once flattened.
    lines = ["a0: &a0 {k: v}"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} {{<<: [*a{i - 1}, *a{i - 1}], k{i}: v}}")
    lines.append(f"network: {{<<: *a{levels - 1}}}")
    return "\n".join(lines) + "\n"


def _laughs(levels: int) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        items = ", ".join([f"*l{i - 1}"] * 9)
        lines.append(f"l{i}: &l{i} [{items}]")
    lines.append(f"network: {{bonds: *l{levels - 1}}}")
    return "\n".join(lines) + "\n"


def _deep_block(levels: int) -> str:
    return "".join(f"{'  ' * i}k{i}:\n" for i in range(levels)) + "  " * levels + "x\n"


def _param(text: str) -> str:
    return bond(params=text)


# name -> {file name: content (str or bytes)}
SMALL: dict[str, dict[str, str | bytes]] = {
    "deep-flow-seq": {"a.yaml": "network: " + "[" * 100_000},
    "deep-flow-map": {"a.yaml": "network: " + "{a: " * 50_000},
    "deep-flow-mixed": {"a.yaml": "network: " + "[{a: " * 30_000},
    "deep-block": {"a.yaml": _deep_block(300)},
    "merge-chain": {"a.yaml": _merge_chain(40)},
    "merge-chain-457-bytes": {"a.yaml": _merge_chain(18)},
    "billion-laughs": {"a.yaml": _laughs(10)},
    "many-aliases": {"a.yaml": "x: &x 1\nnetwork: [" + ", ".join(["*x"] * 5000) + "]\n"},
    "self-alias": {"a.yaml": "network: &n {bonds: *n}\n"},
    "self-alias-seq": {"a.yaml": "network: &n [*n]\n"},
    "merge-self": {"a.yaml": "network: &n {<<: *n}\n"},
    "base60-number": {"a.yaml": _param("mii-monitor-interval: 1" + ":59" * 200_000)},
    "huge-decimal": {"a.yaml": _param("mii-monitor-interval: " + "9" * 5000)},
    "huge-decimal-string": {"a.yaml": _param("mii-monitor-interval: '" + "9" * 5000 + "'")},
    "huge-duration": {"a.yaml": _param("up-delay: '" + "9" * 400 + "ms'")},
    "huge-duration-fraction": {"a.yaml": _param("down-delay: '" + "9" * 320 + ".5s'")},
    "huge-hours": {"a.yaml": _param("arp-interval: '99999999999999999999h'")},
    "huge-int-param": {"a.yaml": _param("min-links: 99999999999999999999999999")},
    "huge-hex": {"a.yaml": _param("min-links: 0x" + "f" * 3000)},
    "inf-param": {"a.yaml": _param("mii-monitor-interval: .inf")},
    "nan-param": {"a.yaml": _param("mii-monitor-interval: .nan")},
    "huge-mtu": {"a.yaml": bond(extra="      mtu: 1.0e+999\n")},
    "huge-metric": {
        "a.yaml": bond(
            extra="      routes: [{to: default, via: 192.0.2.1, metric: %s}]\n" % ("9" * 60)
        )
    },
    "probe-timeout-inf": {
        "a.yaml": "bondd:\n  probes: [{type: ping, target: 192.0.2.1, timeout: .inf}]\n"
    },
    "probe-timeout-nan": {
        "a.yaml": "bondd:\n  probes: [{type: ping, target: 192.0.2.1, timeout: .nan}]\n"
    },
    "probe-timeout-negative": {
        "a.yaml": "bondd:\n  probes: [{type: ping, target: 192.0.2.1, timeout: -5}]\n"
    },
    "probe-timeout-hours": {
        "a.yaml": "bondd:\n  probes: [{type: ping, target: 192.0.2.1, timeout: '1000000h'}]\n"
    },
    "probe-via-slash": {
        "a.yaml": "bondd:\n  probes: [{type: arp, target: 192.0.2.1, via: '../../etc'}]\n"
    },
    "probe-zone-newline": {
        "a.yaml": 'bondd:\n  probes: [{type: ping, target: "fe80::1%eth0\\nforged: line"}]\n'
    },
    "name-percent": {"a.yaml": bond(name="bond%d")},
    "name-nul": {"a.yaml": bond(name='"bond\\0"')},
    "name-newline": {"a.yaml": bond(name='"bond\\nforged"')},
    "name-escape": {"a.yaml": bond(name='"bond\\e[2J"')},
    "name-bidi": {"a.yaml": bond(name='"bond\\u202e0"')},
    "name-dotdot": {"a.yaml": bond(name='".."')},
    "name-long": {"a.yaml": bond(name="b" * 200)},
    "port-name-nul": {"a.yaml": bond(ports='["eno1\\0", eno2]')},
    "port-name-percent": {"a.yaml": bond(ports="[eno%d, eno2]")},
    "primary-name-newline": {"a.yaml": bond(params='primary: "eno1\\nx"')},
    "not-utf8": {"a.yaml": b"network:\n  bonds: {b\xff\xfe: {}}\n"},
    "nul-byte": {"a.yaml": b"network:\n  bonds: {bond0\x00: {}}\n"},
    "control-char": {"a.yaml": "network:\n  bonds: {bond0\x07: {}}\n"},
    "tab-indent": {"a.yaml": "network:\n\tbonds: {}\n"},
    "two-documents": {"a.yaml": "network: {}\n---\nnetwork: {}\n"},
    "top-level-list": {"a.yaml": "- network\n"},
    "mapping-key": {"a.yaml": "? {a: 1}\n: b\n"},
    "bad-timestamp": {"a.yaml": "network: {version: 2024-02-30}\n"},
    "bad-binary": {"a.yaml": "network: {version: !!binary '@@@'}\n"},
    "python-tag": {"a.yaml": "network: !!python/object/apply:os.system ['true']\n"},
    "unknown-tag": {"a.yaml": "network: !foo {}\n"},
    "long-string": {"a.yaml": "network: {renderer: '" + "x" * 900_000 + "'}\n"},
    "long-key": {"a.yaml": "network: {" + "k" * 900_000 + ": 1}\n"},
    "many-nodes": {"a.yaml": "network: [" + "1," * 300_000 + "1]\n"},
    "many-keys-merge": {
        "a.yaml": "m: &m {" + ", ".join(f"k{i}: 1" for i in range(6000)) + "}\n"
        "network: {<<: [*m, *m]}\n"
    },
}


def _big_file(directory: Path) -> None:
    with (directory / "a.yaml").open("w") as handle:
        handle.write("network:\n")
        for i in range((2 << 20) // 20):
            handle.write(f"  # comment {i:08d}\n")


def _total_too_big(directory: Path) -> None:
    for n in range(12):
        with (directory / f"{n:02d}.yaml").open("w") as handle:
            handle.write(f"k{n}:\n")
            for i in range((900 << 10) // 20):
                handle.write(f"  # comment {i:08d}\n")


def _many_values(directory: Path) -> None:
    # Each file within the per-file node limit, all of them far over the total.
    for n in range(20):
        (directory / f"{n:02d}.yaml").write_text(
            f"network:\n  renderer{n}: [" + "1," * 99_990 + "1]\n"
        )


def _many_big_files(directory: Path) -> None:
    # Each file over the per-file node limit: refused ones must spend the budget too.
    for n in range(20):
        (directory / f"{n:02d}.yaml").write_text("network: [" + "1," * 199_990 + "1]\n")


def _special_files(kind: str) -> Callable[[Path], None]:
    def make(directory: Path) -> None:
        (directory / "00-ok.yaml").write_text(bond())
        target = directory / "10-odd.yaml"
        if kind == "fifo":
            os.mkfifo(target)
        elif kind == "dir":
            target.mkdir()
        elif kind == "dangling":
            target.symlink_to(directory / "missing")
        elif kind == "devzero":
            target.symlink_to("/dev/zero")
        elif kind == "loop":
            target.symlink_to(target)

    return make


GENERATED: dict[str, Callable[[Path], None]] = {
    "file-over-size-limit": _big_file,
    "total-over-size-limit": _total_too_big,
    "total-over-node-limit": _many_values,
    "many-files-over-node-limit": _many_big_files,
    "fifo-named-yaml": _special_files("fifo"),
    "directory-named-yaml": _special_files("dir"),
    "dangling-link": _special_files("dangling"),
    "link-to-dev-zero": _special_files("devzero"),
    "link-loop": _special_files("loop"),
}


def names() -> list[str]:
    return sorted([*SMALL, *GENERATED])


def write(name: str, directory: Path) -> None:
    """Create case `name`'s files in `directory`."""
    if name in GENERATED:
        GENERATED[name](directory)
        return
    for file, content in SMALL[name].items():
        path = directory / file
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
