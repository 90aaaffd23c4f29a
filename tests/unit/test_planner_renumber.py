"""Moving an IPv4 address within its subnet: what the kernel drops on the way, and re-adding it."""

from __future__ import annotations

from bondd.model import RouteSpec
from bondd.plan import ops as o
from bondd.plan import planner
from bondd.plan.addresses import deleted_first, routes_kept
from bondd.plan.ownership import Ownership
from tests.unit.fakekernel import FakeKernel
from tests.unit.test_engine_fakes import BASE, proposal

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


def test_a_kept_secondary_in_the_same_subnet_may_go_with_the_primary() -> None:
    # Without promote_secondaries, deleting 10.0.0.4 (the primary) takes 10.0.0.2 too.
    default = RouteSpec(to="0.0.0.0/0", via="10.0.0.1")
    wanted, have = {"10.0.0.2/24"}, {"10.0.0.4/24", "10.0.0.2/24"}
    assert deleted_first(wanted, have) == {"10.0.0.4/24"}
    assert routes_kept({default}, wanted, have) == set()


def test_a_route_put_back_after_a_renumber_is_a_replace() -> None:
    routed = BASE.replace(
        "addresses: [192.0.2.2/24]",
        "addresses: [192.0.2.12/24]\n      routes: [{to: default, via: 192.0.2.1}]",
    )
    kernel = FakeKernel(["p0", "p1"])
    first = planner.plan(proposal(routed).desired, kernel.read(), Ownership())
    for op in first.ops:
        kernel.apply(op)
    assert [op.again for op in first.ops if isinstance(op, o.AddRoute)] == [False]  # new: an add
    moved = routed.replace("192.0.2.12/24", "192.0.2.212/24")
    ops = planner.plan(proposal(moved).desired, kernel.read(), first.ownership).ops
    kinds = [type(op).__name__ for op in ops]
    assert kinds == ["DelAddress", "AddAddress", "AddRoute"], kinds
    assert [op.again for op in ops if isinstance(op, o.AddRoute)] == [True]
