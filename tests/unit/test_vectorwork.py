"""The vector-state self-test's expected digests are the host's own."""

from __future__ import annotations

from tests.lab.vectorwork import DIGESTS, buffer, one_round, run


def test_expected_digests_are_what_the_host_computes() -> None:
    assert one_round(buffer()) == DIGESTS


def test_every_thread_and_round_is_reported() -> None:
    results = run(rounds=2, threads=3)
    assert len(results) == 6
    assert all(result == DIGESTS for result in results)
