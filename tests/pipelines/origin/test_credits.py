"""Credit lines: the agency a page credits and the outlet it names as the story's first publisher,
read where pages put them and nowhere else."""

from __future__ import annotations

import pytest

from pipelines.origin.credits import DEFAULT_RULES_FILE, load_credit_rules, read_credits
from pipelines.siterules import RulesError

RULES = load_credit_rules(DEFAULT_RULES_FILE)
BODY = "The council approved the budget after a long debate, officials said on Tuesday."


def wire(paragraphs: list[str], bylines: list[str] = ()) -> str | None:
    return read_credits(paragraphs, list(bylines), RULES).wire


@pytest.mark.parametrize(
    ("lead", "agency"),
    [
        ("LONDON (Reuters) - The bank held rates.", "Reuters"),
        ("WASHINGTON, Dec. 2 (AP) — Officials said.", "AP"),
        ("(AFP) — Something happened overnight.", "AFP"),
        ("PARIS, 2 déc (AFP) - Le gouvernement a annoncé.", "AFP"),
        ("МОСКВА, 2 декабря. /ТАСС/. Президент заявил.", "TASS"),
        ("(서울=연합뉴스) 김기자 = 정부는 2일 발표했다.", "Yonhap"),
        ("【共同】政府は2日、発表した。", "Kyodo"),
        ("新华社北京12月2日电（记者 张三）国务院发布。", "Xinhua"),
        ("القاهرة (رويترز) - قال مسؤولون", "Reuters"),
    ],
)
def test_a_dateline_credits_its_agency(lead, agency):
    assert wire([lead, BODY]) == agency


@pytest.mark.parametrize(
    "lead",
    [
        "The Palestinian Authority (PA) said on Monday that talks would resume.",
        "Officials told Reuters on Monday that the plan was dead.",
        "The plan is dead, Reuters reported on Monday, citing two officials.",
        "The minister met (AP) staff on Tuesday - and left.",
    ],
)
def test_a_story_quoting_an_agency_is_not_credited_to_it(lead):
    assert wire([lead, BODY, BODY]) is None


@pytest.mark.parametrize(
    ("closing", "agency"),
    [
        ("Source: Xinhua", "Xinhua"),
        ("© 2026 AFP", "AFP"),
        ("(Reporting by Jane Doe; Editing by John Roe)", "Reuters"),
        ("The Associated Press contributed to this report.", "AP"),
        ("With AFP", "AFP"),
        ("Copyright 2019 The Associated Press. All rights reserved.", "AP"),
    ],
)
def test_a_closing_line_credits_its_agency(closing, agency):
    assert wire([BODY, BODY, closing]) == agency


def test_an_agency_after_the_last_sentence_is_a_credit_a_name_inside_it_is_not():
    assert wire([BODY, "The vote is due next week. (AFP)"]) == "AFP"
    assert wire(["首相は会見した。", "と述べた。（共同）"]) == "Kyodo"
    assert wire([BODY, "The talks involve the Palestinian Authority (PA)."]) is None


def test_a_quoted_credit_line_is_the_speaker_s():
    quoted = [BODY, '"Source: Reuters," he joked, "is how every rumour starts."']
    assert wire(quoted) is None
    assert read_credits(quoted, [], RULES).quoted  # set aside, and counted by the extraction stage
    assert wire(['"LONDON (Reuters) - is how they start," she said.', BODY]) is None


def test_bylines_and_declared_authors_credit_agencies_by_any_alias():
    assert wire([BODY], ["By Dana Whitfield | Reuters 2026-12-01"]) == "Reuters"
    assert wire([BODY], ["Agence France-Presse"]) == "AFP"
    assert wire([BODY], ["By Li Wen, The Associated Press"]) == "AP"
    assert wire([BODY], ["By Dana Whitfield"]) is None
    # a short capital alias counts only in capitals: "Ap" is no agency
    assert wire([BODY], ["By Ap Whitfield"]) is None


def test_a_long_paragraph_naming_an_agency_is_body_text():
    long = "Source: AFP " + " ".join(["word"] * 60)
    assert wire([BODY, long]) is None


@pytest.mark.parametrize(
    ("line", "outlet"),
    [
        ("This article was originally published by The Meridian Herald.", "Meridian Herald"),
        ("This story first appeared on meridianherald.example.", "meridianherald.example"),
        ("Republished with permission from Harbor Times.", "Harbor Times"),
        ("Originally published on Live Science.", "Live Science"),
        ("Source: The Coastal Times", "Coastal Times"),
    ],
)
def test_a_credit_line_names_the_original_outlet(line, outlet):
    assert read_credits([BODY, BODY, line], [], RULES).original == outlet


def test_no_outlet_is_read_from_vague_or_quoted_lines():
    assert read_credits([BODY, "Originally published on our partner site."], [], RULES).original is None
    quoted = '"This article was originally published by Reuters," the notice said.'
    assert read_credits([BODY, quoted], [], RULES).original is None


def test_a_broken_rules_file_says_what_to_fix(tmp_path):
    broken = tmp_path / "credits.toml"
    broken.write_text('wire_lines = ["^(unclosed {agency}"]\n[[agency]]\nname = "AP"\naliases = ["AP"]\n')
    with pytest.raises(RulesError, match=r"wire_lines.*not a valid regular expression"):
        load_credit_rules(str(broken))
    broken.write_text("[[agency]]\nname = 3\n")
    with pytest.raises(RulesError, match=r"\[\[agency\]\] 1"):
        load_credit_rules(str(broken))
    with pytest.raises(RulesError, match="cannot read"):
        load_credit_rules(str(tmp_path / "missing.toml"))


def test_a_date_or_a_headline_is_no_outlet():
    for line in (
        "Originally published in March 2022. Last updated on December 20, 2024.",
        "This article was originally published by Our Five Great Ideas For Better Gardens In Spring.",
    ):
        assert read_credits([line, BODY, BODY], [], RULES).original is None
