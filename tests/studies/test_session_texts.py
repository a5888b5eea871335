"""Issue 23.6: what the screens say, as declared (no screen needed)."""
from __future__ import annotations

import paradigms
from paradigms.engine.field import FieldTrial
from paradigms.engine.lab import LabTrial
from paradigms.screens.layout import reflow
from tests.conftest import ROOT


def _lab_prompts(condition):
    regan = paradigms.get("regan1971")
    e = regan.experiments[0]
    t = LabTrial(regan, e, regan.session.design, e.condition(condition), "P1", 1, "t")
    out = []
    for i in range(len(t._queue)):
        t._i = i
        out.append(t.prompt())
    return out


def test_experimenter_screens_never_name_the_liking_condition():
    for cond in ("no_favor_pleasant", "confederate_favor_unpleasant"):
        for p in _lab_prompts(cond):
            if p.audience != "experimenter" or p.kind == "cue_card":  # the cue card is the confederate's
                continue
            seen = " ".join((p.header, p.title, p.text, p.note)).lower()
            assert "pleasant" not in seen, (cond, p.kind, seen)
    # the favor, which the experimenter may know, is still named
    assert "favor: no favor" in _lab_prompts("no_favor_pleasant")[-1].header


def test_the_cue_card_is_laid_out_in_sections_on_the_screen():
    (card,) = [p for p in _lab_prompts("no_favor_pleasant") if p.kind == "cue_card"]
    lines = reflow(card.text).split("\n")  # as the screen wraps it
    assert lines[:3] == ["THIS SESSION", "- Favor: no favor", "- Liking: pleasant"]
    assert "WHAT HAPPENS" in lines and any(x.startswith("- PLEASANT PHONE CALL: ") for x in lines)


def _exclude_codes(paradigm, experiment, condition):
    e = paradigm.experiment(experiment)
    t = FieldTrial(paradigm, e, e.condition(condition), "P", 1, "t")
    t._state = "exclude"
    return [c.code for c in t.prompt().choices]


def test_the_exclude_menu_offers_only_the_reasons_of_its_condition():
    ditf = paradigms.get("cialdini1975")
    assert "agreed_first_request" in _exclude_codes(ditf, 1, "rejection_moderation")
    assert "agreed_first_request" not in _exclude_codes(ditf, 1, "smaller_request_only")
    assert "agreed_first_request" not in _exclude_codes(ditf, 1, "exposure_control")
    assert "knows_requester" in _exclude_codes(ditf, 1, "smaller_request_only")


def test_the_smaller_request_alone_does_not_say_also_and_the_debriefing_fits_every_condition():
    ditf = paradigms.get("cialdini1975")
    (step,) = ditf.experiment(1).condition("smaller_request_only").steps
    assert "also" not in step.say and "only request" in step.note
    assert "counselling" not in ditf.debriefing.lower() and "zoo" not in ditf.debriefing.lower()
    regan = paradigms.get("regan1971")
    assert all(" she " not in b.participant_text for b in regan.session.design.breaks)


def test_no_declaration_cites_a_file_outside_the_repository():
    for p in paradigms.all_paradigms():
        text = " ".join([p.provenance, p.training, p.coding_rules] + [
            r.source for e in p.experiments for r in getattr(e.model, "rates", {}).values()])
        assert "shared/reference" not in text, p.id
    for md in (ROOT / "protocols").glob("*.md"):
        assert "shared/reference" not in md.read_text(encoding="utf-8"), md.name
    assert (ROOT / "data" / "published" / "published_results.csv").is_file()


def test_the_readme_carries_every_session_types_key_card():
    from paradigms.base import FieldSession
    from paradigms.vocab.lab import LabSession
    from paradigms.vocab.mail import MailSession
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for cls in (FieldSession, LabSession, MailSession):
        assert cls.key_card
        for key, what in cls.key_card:
            assert f"| `{key}` | {what} |" in readme, (cls.__name__, key)


def test_regan_debriefing_is_one_text_the_protocol_quotes_from_the_participant_screen():
    """Issue 23.3: the protocol's debriefing quotes the screen's words (written once, in the design)."""
    p = paradigms.get("regan1971")
    screen = p.session.design.debriefing_participant
    start, end = p.debriefing.index('"Thank you.'), p.debriefing.rindex('ends."') + len('ends.')
    assert " ".join(p.debriefing[start + 1:end].split()) == " ".join(screen.split())
    assert p.debriefing.startswith("On the participant's screen") and "Return the money" in p.debriefing[end:]
    assert max(len(line) for line in p.debriefing.splitlines()) <= 99
