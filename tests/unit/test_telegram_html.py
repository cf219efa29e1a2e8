"""The stand-in's HTML check accepts what Telegram accepts and refuses the rest."""

import pytest

from bot.standin.html import EntityError, parse


@pytest.mark.parametrize(
    ("html", "shown"),
    [
        ("plain", "plain"),
        ("<b>bold</b> and <i>it</i>", "bold and it"),
        ("&lt;b&gt; &amp; &quot;", '<b> & "'),
        ("&#39;&#x4E2D;", "'中"),
        ('<a href="https://t.me/x?start=a&amp;b">link</a>', "link"),
        ('<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>', "st"),
        ("<blockquote expandable>q</blockquote>", "q"),
        ('<pre><code class="language-python">x</code></pre>', "x"),
        ("社保所 👍", "社保所 👍"),
    ],
)
def test_accepted(html: str, shown: str) -> None:
    assert parse(html) == shown


@pytest.mark.parametrize(
    ("html", "says"),
    [
        ("<script>x</script>", 'Unsupported start tag "script"'),
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("</b>", "Unexpected end tag"),
        ("<b><i>x</b></i>", "Can't find end tag"),
        ("a & b", "Unsupported HTML entity"),
        ("&nbsp;", 'Unsupported HTML entity "&nbsp;"'),
        ("1 < 2", "Unclosed start tag"),
        ("2 > 1", "Unexpected >"),
        ('<span class="x">y</span>', 'Unsupported start tag "span"'),
    ],
)
def test_refused(html: str, says: str) -> None:
    with pytest.raises(EntityError) as raised:
        parse(html)
    assert "can't parse entities" in str(raised.value)
    assert says in str(raised.value)
