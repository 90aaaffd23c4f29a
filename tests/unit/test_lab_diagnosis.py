"""A lab that dies says why, in one screen."""

from __future__ import annotations

from pathlib import Path

from tests.lab.uml import Console, diagnose

KERNEL = Path("/usr/bin/linux.uml")


def console_of(text: str) -> list[str]:
    console = Console()
    console.feed(text)
    return console.tail()


def test_amx_panic_names_the_cause_and_the_shim() -> None:
    text = diagnose(
        KERNEL,
        "6.1.176",
        console_of(
            "bondd-lab: ready\nuserspace - ptrace set fp regs failed, errno = 14\n"
            "Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000009\n"
            "<4> [<606931e5>] panic+0x197/0x376\n"
        ),
        -6,
        None,
    )
    assert "panic: Kernel panic - not syncing: Attempted to kill init!" in text
    assert "xstate shim" in text and "not loaded" in text
    assert "killed by signal 6" in text
    assert "[<606931e5>]" not in text  # stack frames are left out
    assert len(text.splitlines()) < 40


def test_memory_panic_says_how_to_give_more() -> None:
    text = diagnose(
        KERNEL,
        "6.1.176",
        console_of("<0>Kernel panic - not syncing: Failed to allocate 6881280 bytes\n"),
        -6,
        None,
    )
    assert "BONDD_LAB_MEM" in text


def test_silent_kernel_is_named() -> None:
    text = diagnose(Path("/bin/false"), "false 9.1", [], 1, None)
    assert "/bin/false is a User-Mode Linux kernel" in text
    assert "exit status 1" in text


def test_console_keeps_the_last_lines_and_a_partial_one() -> None:
    console = Console(lines=3)
    console.feed("a\nb\nc\r\nd\npart")
    assert console.tail() == ["b", "c", "d", "part"]
