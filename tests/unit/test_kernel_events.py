"""bondd.kernel.events: captured kernel messages become events; socket errors are what they are."""

from __future__ import annotations

import errno

import pytest

from bondd.kernel import codec, events
from tests.unit.netlink_fixtures import datagrams

pytestmark = pytest.mark.unit


def test_link_address_and_route_messages_become_events() -> None:
    found = [e for data in datagrams("links") for e in events.parse(data)]
    by_name = {e.ifname: e for e in found}
    assert {"lo", "bond0", "p0a", "bond0.100"} <= set(by_name)
    assert by_name["p0a"].kind == "link" and by_name["p0a"].up
    assert by_name["p0a"].master == by_name["bond0"].ifindex
    assert by_name["p2b"].master == 0 and not by_name["p2b"].up
    addresses = [e for data in datagrams("addresses") for e in events.parse(data)]
    assert {e.kind for e in addresses} == {"address"}
    assert by_name["bond0"].ifindex in {e.ifindex for e in addresses}
    routes = [e for data in datagrams("routes4") for e in events.parse(data)]
    assert {e.kind for e in routes} == {"route"}
    assert by_name["bond0.100"].ifindex in {e.ifindex for e in routes}


def test_deletions_and_bonding_events_are_told_apart() -> None:
    body = codec.IFINFOMSG.pack(0, 0, 7, 0, 0) + codec.attr(3, b"bond0\0")
    failover = body + codec.attr(events.IFLA_EVENT, (3).to_bytes(4, "little"))
    options = body + codec.attr(events.IFLA_EVENT, (6).to_bytes(4, "little"))
    data = b"".join(
        [
            codec.encode_message(codec.RTM_DELLINK, 0, 0, body),
            codec.encode_message(codec.RTM_NEWLINK, 0, 0, failover),
            codec.encode_message(codec.RTM_NEWLINK, 0, 0, options),
            codec.encode_message(codec.RTM_NEWADDR, 0, 0, b"\0"),  # too short: skipped
        ]
    )
    deleted, failed_over, changed = events.parse(data)
    assert deleted.kind == "link-deleted" and deleted.ifname == "bond0"
    assert failed_over.failover and not failed_over.options_changed
    assert changed.options_changed and not changed.failover


class Raising:
    """A socket whose recv() answers from a script: data, or an exception."""

    def __init__(self, *script: bytes | OSError) -> None:
        self.script = list(script)

    def recv(self, size: int) -> bytes:
        item = self.script.pop(0) if self.script else BlockingIOError(errno.EAGAIN, "empty")
        if isinstance(item, OSError):
            raise item
        return item

    def close(self) -> None:
        pass


def event_socket(fake: Raising) -> events.EventSocket:
    sock = events.EventSocket()
    sock.sock.close()
    sock.sock = fake  # type: ignore[assignment]
    return sock


def test_an_overrun_is_reported_as_lost_and_the_rest_still_read() -> None:
    data = datagrams("addresses")[0]
    sock = event_socket(Raising(data, OSError(errno.ENOBUFS, "No buffer space"), data))
    found, lost = sock.read()
    assert lost
    assert len(found) == 2 * len(events.parse(data))


def test_a_quiet_socket_reads_nothing_lost() -> None:
    assert event_socket(Raising()).read() == ([], False)


def test_any_other_socket_error_is_raised_not_retried() -> None:
    sock = event_socket(Raising(OSError(errno.EBADF, "Bad file descriptor")))
    with pytest.raises(OSError) as caught:
        sock.read()
    assert caught.value.errno == errno.EBADF
