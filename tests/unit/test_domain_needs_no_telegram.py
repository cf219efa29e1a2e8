"""The domain (every module of bot/ but the runtime, the composition root, the command
line, the demo and the stand-in) imports and works with ``telegram`` made unimportable.

The modules are found by walking the package, so a module added tomorrow is covered."""

import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import bot

# What may speak to Telegram: the runtime, and what starts it.
OUTSIDE = ("bot.runtime", "bot.app", "bot.cli", "bot.demo", "bot.standin")


def domain_modules() -> list[str]:
    found = [m.name for m in pkgutil.walk_packages([str(Path(bot.__file__).parent)], "bot.")]
    return sorted(m for m in found if not m.startswith(OUTSIDE))


SCRIPT = textwrap.dedent(
    """
    import importlib, importlib.abc, sys

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "telegram":
                raise ImportError("blocked in this test: " + name)
            return None

    sys.meta_path.insert(0, Block())
    for name in sys.argv[1:]:
        importlib.import_module(name)
    # and it works: a case's moves, a keyboard, a split text, a parsed number
    from bot.chat.keyboards import main_menu, markup
    from bot.texts import Texts
    from bot.chat.split import split_html
    from bot.args import parse_number
    assert markup(main_menu(), Texts(), "zh")["inline_keyboard"][0][0]["text"]
    assert len(split_html("甲\\n" * 5000)) == 3 and parse_number("１２") == 12
    print(",".join(sorted(m for m in sys.modules if m.split(".")[0] == "telegram")))
    """
)


def test_the_domain_imports_no_telegram() -> None:
    modules = domain_modules()
    assert {
        "bot.cases.moves",
        "bot.chat.notify",
        "bot.cases.access",
        "bot.chat.keyboards",
        "bot.db.users",
    } <= set(modules)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *modules], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""  # not one telegram module was loaded
