"""`evalbot demo` plays a whole campaign against the stand-in; what it shows is checked."""

from __future__ import annotations

import re
from pathlib import Path

from bot.campaign import load_campaign
from bot.demo import run_demo
from bot.settings import REPO_EXAMPLE


async def test_the_demo_runs_a_whole_campaign(tmp_path: Path) -> None:
    campaign = load_campaign(REPO_EXAMPLE)
    lines: list[str] = []
    result = await run_demo(campaign, lines.append, page_dir=tmp_path / "page")
    transcript = "\n".join(lines)
    assert (result.cases, result.expected) == (3, 3)
    assert (result.errors, result.on_page) == (0, len(campaign.units))
    # a form interrupted by something else is picked up where it stopped, and filed
    middle = transcript.split("王阿姨 starts another", 1)[1].split("\n──", 1)[0]
    assert "这是您还没填完的意见" in middle and "提交成功，您的案件编号是 3" in middle
    # the case is filed, rectified and rated; the ballots recount
    assert "满意" in transcript and "整改" in transcript
    assert "evalbot verify: OK — 60 log entries" in transcript
    # each evaluator votes on one card: an office at a time, a double tap changes nothing,
    # and after the close the card shows the final answers
    assert "🗳 民主测评 · 第 1 / 3 个单位" in transcript
    assert "已是“满意”，没有改变" in transcript and "民主测评已结束" in transcript
    # run by names: nothing a person reads holds an office's code or a case's internal id
    read = [line for line in lines for line in line.splitlines() if " ▶ " not in line]
    codes = {u.id for u in campaign.units}
    leaked = [line for line in read if "case-" in line or codes & set(re.findall(r"\w+", line))]
    assert not leaked, leaked[:5]
    assert "有几个单位都符合“街道”" in transcript  # /daily 街道: asked which, then recorded
    # the daily score refused with its reason, the others taken
    assert "十分 不符合" in transcript
    # /rank: every unit on its own line, ranked, the one below 85 marked
    rank = transcript.split("纠风办李主任 ▶ /rank", 1)[1].split("纠风办李主任 ▶", 1)[0]
    ranked = [line.strip() for line in rank.splitlines() if line.strip()[:2] in ("1.", "2.", "3.")]
    assert [line.split(" — ")[0][3:] for line in ranked] == [
        "东街街道社保所",
        "南苑街道社保所",
        "西街街道社保所",
    ]
    assert ["⚠️" in line for line in ranked] == [False, False, True]
    # published to the channel (text and chart) and to the subscriber; the page is written
    assert "receives a text) 📢" in transcript and "receives a photo) 📊" in transcript
    assert (tmp_path / "page" / "index.html").exists()
    assert (tmp_path / "page" / "ranking.png").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "page" / "font.woff2").read_bytes().startswith(b"wOF2")  # Chinese anywhere
