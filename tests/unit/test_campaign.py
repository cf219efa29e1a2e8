"""The campaign file: the example reproduces the plan; a wrong file lists every problem."""

from decimal import Decimal
from pathlib import Path

import pytest

from bot.campaign import PHASE_IDS, load_campaign, parse_campaign
from bot.errors import CampaignError
from bot.settings import REPO_EXAMPLE, Secret, Settings
from scoring import Aggregation, Answer, Params, Severity, UnknownPolicy

EXAMPLE = REPO_EXAMPLE.read_text(encoding="utf-8")


def problems(text: str) -> list[tuple[str, str]]:
    with pytest.raises(CampaignError) as raised:
        parse_campaign(text, Path("c.toml"))
    assert all(p.file == "c.toml" for p in raised.value.problems)
    return [(p.key, p.what) for p in raised.value.problems]


def test_the_example_reproduces_the_plan() -> None:
    c = load_campaign(REPO_EXAMPLE)
    assert [i.name for i in c.items] == ["信息公开", "依法办事", "服务质量", "廉洁自律", "制度建设"]
    assert [k.id for k in c.categories] == [
        "service_user",
        "npc_deputy",
        "cppcc_member",
        "integrity_supervisor",
        "evaluation_rep",
        "public_rep",
    ]
    assert tuple(p.id for p in c.phases) == PHASE_IDS
    assert len(c.units) == 3
    assert c.timezone == "Asia/Shanghai"
    assert c.scoring == Params()  # every scoring default is the plan's
    assert c.scoring.democratic_weight == Decimal("0.7")  # read exactly, not as a float


def test_a_wrong_file_lists_every_problem_with_its_key() -> None:
    text = (
        EXAMPLE.replace('timezone = "Asia/Shanghai"', 'timezone = "Mars/Olympus"')
        .replace('id = "xijie"', 'id = "dongjie"')
        .replace("verify_days = 10", "verify_days = 0")
        .replace("democratic_weight = 0.7", "democratic_weight = 1.7")
        .replace('unknown_policy = "score"', 'unknown_policy = "ignore"')
        .replace("end = 2026-11-30", "end = 2026-12-05")
        .replace("organisers = [100000001]", 'organisers = ["admin"]')
        .replace("[intake]", "[intake]\nmax_txt = 5")
    )
    found = problems(text)
    keys = [k for k, _ in found]
    assert keys == [
        "intake.max_txt",
        "units[1].id",
        "phases[2].start",
        "scoring.democratic_weight",
        "scoring.unknown_policy",
        "campaign.timezone",
        "access.organisers",
        "deadlines.verify_days",
    ], found
    assert dict(found)["units[1].id"] == "'dongjie' is used twice"
    assert "overlaps" in dict(found)["phases[2].start"]
    assert "misspelt" in dict(found)["intake.max_txt"]


def test_missing_tables_and_wrong_types_are_named() -> None:
    found = dict(problems('[campaign]\nname = 5\nid = "Bad Id"\n'))
    assert found["campaign.name"] == "must be text, not int"
    assert "not a valid id" in found["campaign.id"]
    for key in ("access", "units", "items", "categories", "phases", "campaign.content"):
        assert key in found


def test_phases_must_be_the_four_of_the_plan_in_order() -> None:
    text = EXAMPLE.replace('id = "rectify"', 'id = "fix"')
    assert (
        "phases",
        "must be the plan's four phases in order: prepare, collect, rectify, evaluate",
    ) in problems(text)


def test_not_toml_at_all() -> None:
    [(key, what)] = problems("[campaign\n")
    assert key == "(file)" and what.startswith("not valid TOML")


def test_an_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(CampaignError) as raised:
        load_campaign(tmp_path / "nope.toml")
    assert "cannot be read" in str(raised.value)


def test_scoring_parameters_are_read() -> None:
    text = (
        EXAMPLE.replace('unknown_policy = "score"', 'unknown_policy = "exclude"')
        .replace('aggregation = "pooled"', 'aggregation = "item_mean"')
        .replace("general = 5,", "general = 4.5,")
    )
    c = parse_campaign(text, Path("c.toml"))
    assert c.scoring.unknown_policy is UnknownPolicy.EXCLUDE
    assert c.scoring.aggregation is Aggregation.ITEM_MEAN
    assert c.scoring.deductions[Severity.GENERAL] == Decimal("4.5")
    assert c.scoring.values[Answer.UNKNOWN] == 30


def test_settings_come_from_the_environment() -> None:
    s = Settings.from_env(
        {
            "TELEGRAM_BOT_TOKEN": "123:abc",
            "EVALBOT_DB": "/tmp/x.sqlite3",
            "TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/bot",
        }
    )
    assert s.require_token() == "123:abc"
    assert "123:abc" not in repr(s)
    assert s.db_path == Path("/tmp/x.sqlite3")
    assert s.api_base_url == "http://127.0.0.1:8081/bot"
    assert Settings.from_env({}).campaign_path == REPO_EXAMPLE
    assert repr(Secret("")) == "Secret('')"
