"""Property tests of the namespace model: what SetSD keeps, what it refuses, and that a refusal changes nothing."""

from __future__ import annotations

from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sd import (
    Ace,
    Acl,
    SecurityDescriptor,
    Sid,
    sd_from_bytes,
    sd_to_bytes,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.namespaces import (
    ID,
    ROOT_DEFAULT_SDDL,
    SETSD_KNOWN_MASK,
    NamespaceTree,
    NsAce,
    WmiError,
    inherit_to_child,
    setsd_rejection,
)

ADMIN = ["S-1-5-32-544", "S-1-5-11", "S-1-1-0"]
SIDS = ["S-1-1-0", "S-1-5-11", "S-1-5-32-545", "S-1-5-21-1-2-3-1001", "S-1-5-21-9-8-7-4242"]

valid_masks = st.sampled_from([0x1, 0x3, 0x13, 0x21, 0x1F, 0x3F, 0x20001, 0x60013, 0x6003F])
valid_flags = st.sampled_from([0x0, 0x2, 0x3, 0x6, 0xA, 0xE])
valid_aces = st.builds(
    lambda t, f, m, s: Ace(t, f, m, Sid.parse(s)),
    st.sampled_from([0, 1]),
    valid_flags,
    valid_masks,
    st.sampled_from(SIDS),
)
any_aces = st.builds(
    lambda t, f, m, s: Ace(t, f, m, Sid.parse(s)),
    st.sampled_from([0, 1, 2, 3, 0x11, 0x13]),  # plain-bodied types the codec can serialize
    st.integers(0, 0xFF),
    st.integers(0, 0xFFFFFFFF),
    st.sampled_from(SIDS),
)


def fresh() -> NamespaceTree:
    tree = NamespaceTree(pre_2003=False)
    tree.add("root", ROOT_DEFAULT_SDDL)
    tree.add("root\\cimv2\\Security")
    return tree


def sd(aces: list[Ace]) -> bytes:
    return sd_to_bytes(
        SecurityDescriptor(owner=Sid.parse("S-1-5-32-544"), group=Sid.parse("S-1-5-32-544"), dacl=Acl(tuple(aces)))
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(valid_aces, max_size=8))
def test_valid_sds_are_kept_explicit_first_then_inherited(aces: list[Ace]) -> None:
    tree = fresh()
    tree.set_sd("root\\cimv2", sd(aces), ADMIN)
    # Read through the model, not GetSD: a random DACL may deny the caller ReadSecurity.
    got = sd_from_bytes(sd_to_bytes(tree.sd_model("root\\cimv2")))
    assert got.dacl is not None
    explicit = [a for a in got.dacl.aces if not a.flags & ID]
    assert explicit == aces
    assert got.dacl.aces[: len(aces)] == tuple(aces)  # explicit ACEs before inherited ones
    inherited = [NsAce(a.type, a.flags, a.mask, str(a.sid)) for a in got.dacl.aces[len(aces) :]]
    assert inherited == inherit_to_child(tree.effective("root").aces or ())
    # The grandchild sees exactly what cimv2 passes on.
    child = tree.sd_model("root\\cimv2\\Security")
    assert child.dacl is not None
    expected = inherit_to_child(tree.effective("root\\cimv2").aces or ())
    assert [NsAce(a.type, a.flags, a.mask, str(a.sid)) for a in child.dacl.aces] == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(any_aces, max_size=5))
def test_refusal_matches_the_rules_and_changes_nothing(aces: list[Ace]) -> None:
    tree = fresh()
    before = tree.sddl("root\\cimv2")
    data = sd(aces)
    reason = setsd_rejection(sd_from_bytes(data), pre_2003=False)
    rule_broken = any(
        a.type not in (0, 1)
        or a.flags & ~0x1F
        or (a.flags & 0x8 and not a.flags & 0x2)
        or a.mask & ~SETSD_KNOWN_MASK
        or (a.mask & 0x4 and (a.mask & 0x18) != 0x18)
        for a in aces
    )
    assert (reason is not None) == rule_broken
    try:
        tree.set_sd("root\\cimv2", data, ADMIN)
    except WmiError:
        assert rule_broken
        assert tree.sddl("root\\cimv2") == before
    else:
        assert not rule_broken
