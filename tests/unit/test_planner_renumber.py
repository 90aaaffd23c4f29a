"""Moving an IPv4 address within its subnet: what the kernel drops on the way, and re-adding it."""

from __future__ import annotations

from bondd.model import RouteSpec
from bondd.plan.addresses import deleted_first, routes_kept

DEFAULT = RouteSpec(to="0.0.0.0/0", via="198.51.100.1")
V6_DEFAULT = RouteSpec(to="::/0", via="2001:db8::1")
FROM_OLD = RouteSpec(to="203.0.113.0/24", via="192.0.2.1", source="198.51.100.12")


def test_a_move_that_leaves_no_ipv4_address_drops_every_ipv4_route() -> None:
    routes = {DEFAULT, V6_DEFAULT}
    wanted, have = {"198.51.100.212/24"}, {"198.51.100.12/24"}
    assert deleted_first(wanted, have) == {"198.51.100.12/24"}
    assert routes_kept(routes, wanted, have) == {V6_DEFAULT}


def test_another_ipv4_address_keeps_the_routes_except_those_from_the_deleted_one() -> None:
    routes = {DEFAULT, FROM_OLD}
    wanted = {"198.51.100.212/24", "192.0.2.5/24"}
    have = {"198.51.100.12/24", "192.0.2.5/24"}
    assert routes_kept(routes, wanted, have) == {DEFAULT}


def test_adds_before_deletes_drop_nothing() -> None:
    routes = {DEFAULT}
    wanted, have = {"10.1.0.2/24"}, {"198.51.100.12/24"}  # another subnet: add first
    assert deleted_first(wanted, have) == set()
    assert routes_kept(routes, wanted, have) == routes
