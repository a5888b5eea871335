"""protocols/ID.md is exactly what ``compliance protocol ID`` prints."""
from __future__ import annotations

import pytest

import paradigms
from paradigms.protocol import render_protocol

from tests.conftest import ROOT


@pytest.mark.parametrize("pid", paradigms.names())
def test_committed_protocol_is_in_sync(pid):
    committed = ROOT / "protocols" / f"{pid}.md"
    assert committed.exists(), f"{committed} missing: run `make protocols`"
    assert committed.read_text(encoding="utf-8") == render_protocol(paradigms.get(pid)), (
        f"{committed} differs from the declaration: run `make protocols`")


def test_cli_prints_the_same_protocol(cli):
    out = cli("protocol", "cialdini1975", check=0).stdout
    assert out == render_protocol(paradigms.get("cialdini1975"))


def test_protocol_carries_scripts_consent_debriefing_and_reconstruction_notice():
    p = paradigms.get("cialdini1975")
    text = render_protocol(p)
    for e in p.experiments:
        for c in e.conditions:
            assert f"### Script: `{c.name}`" in text
            for s in c.steps:
                assert s.say in text
    assert p.consent in text and p.debriefing in text and "RECONSTRUCTION" in text
    for reason in p.exclusion_reasons:
        assert f"`{reason}`" in text
