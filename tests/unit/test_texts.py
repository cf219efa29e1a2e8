"""Every text has its Chinese, every template parses, user text is escaped."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.campaign import load_campaign, parse_campaign
from bot.cases.opinions import Opinion
from bot.errors import CampaignError
from bot.settings import REPO_EXAMPLE
from bot.texts import Texts, lang_of

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "bot" / "locale" / "zh" / "LC_MESSAGES" / "messages.po"
METHODS = [
    ("bot/templates/**.j2", "jinja2"),
    ("bot/**.py", "python"),
    ("handlers/**.py", "python"),
]
OPTIONS = {"bot/templates/**.j2": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}


def extracted() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, options_map=OPTIONS, keywords={"_": None, "gettext": None, "N_": None}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_text_has_a_chinese_translation() -> None:
    with PO.open("rb") as handle:
        catalog = read_po(handle, locale="zh_Hans_CN")
    translated = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(extracted() - set(translated))
    assert missing == [], f"add these to {PO.name} (see README, Texts and languages)"


# The glossary (design §11): each figure and state has one name; these synonyms are gone.
NOT_SAID = {
    "超期": "逾期",
    "投诉得分": "信访查实得分",
    "投诉处理": "信访查实得分",
    "日常工作得分": "日常工作考核得分",
    "日常工作（A）": "日常工作考核得分（A）",
}
SAID = {  # the name each figure goes by, where the figure is named alone
    "Complaints": "信访查实得分",
    "Complaints (C)": "信访查实得分（C）",
    "Democratic score": "民主测评得分",
    "Democratic evaluation": "民主测评",
    "Daily-work score": "日常工作考核得分",
    "Composite": "综合得分",
    "Received": "已受理",
    "Cases received": "受理件数",
}


def test_one_name_for_each_figure_in_chat_console_and_spreadsheets() -> None:
    with PO.open("rb") as handle:
        catalog = read_po(handle, locale="zh_Hans_CN")
    texts = {m.id: m.string for m in catalog if m.id and isinstance(m.string, str)}
    wrong = [(i, t) for i, t in texts.items() for synonym in NOT_SAID if synonym in t]
    assert wrong == [], "use the glossary's name (design §11): " + repr(wrong[:5])
    assert {k: texts.get(k) for k in SAID} == SAID


def test_every_template_parses_in_both_languages() -> None:
    texts = Texts()
    names = [
        p.relative_to(ROOT / "bot" / "templates")
        for p in (ROOT / "bot" / "templates").rglob("*.j2")
    ]
    assert len(names) > 20
    for lang in ("zh", "en"):
        env = texts._envs[lang]
        for name in names:
            env.get_template(str(name))


def test_values_are_escaped_and_the_result_is_safe_to_nest() -> None:
    texts = Texts()
    html = texts.render("status/not_found", "zh", case_id="<b>&")
    assert "&lt;b&gt;&amp;" in html and "<b>" not in html
    nested = texts.render(
        "opinion/step_unit",
        "en",
        notice=html,
        number=1,
        steps=6,
        opinion=Opinion(),
        offices=3,
        found=-1,
    )
    assert "&lt;b&gt;&amp;" in nested and "&amp;lt;" not in nested


def test_language_codes() -> None:
    assert lang_of("en") == lang_of("en-GB") == "en"
    assert lang_of("zh-hans") == lang_of(None) == lang_of("ru") == "zh"


def test_the_publication_says_in_words_how_anyone_checks_the_ballots() -> None:
    plan = load_campaign(REPO_EXAMPLE)
    texts = Texts()
    values = {"rows": [], "head": "ab" * 32, "at": dt.datetime(2027, 9, 1, tzinfo=dt.UTC)}
    values["threshold"] = "85"
    without = texts.render("results/published", "zh", campaign=plan, **values)
    assert "链头" in without and "#verify" not in without and "evalbot" not in without
    site = dataclasses.replace(plan, page_url="https://pingyi.example.gov.cn/")
    said = texts.render("results/published", "zh", campaign=site, **values)
    assert '如何核验： <a href="https://pingyi.example.gov.cn/#verify">' in said
    with pytest.raises(CampaignError):  # a page's address is a web address
        parse_campaign(
            (REPO_EXAMPLE.read_text(encoding="utf-8")).replace(
                'chat = "@shebao_pingyi_demo"', 'chat = "@shebao_pingyi_demo"\npage_url = "pingyi"'
            ),
            REPO_EXAMPLE,
        )
