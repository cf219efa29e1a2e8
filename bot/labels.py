"""Short labels (buttons, states, channels, command descriptions), marked for translation.

They are plain text, not HTML; :meth:`bot.texts.Texts.gettext` translates them.
"""

from __future__ import annotations

from bot.opinions import CaseState
from bot.texts import N_

STATES: dict[str, str] = {
    CaseState.FILED: N_("Received"),
    CaseState.VERIFYING: N_("Being verified"),
    CaseState.NOT_SUBSTANTIATED: N_("Not substantiated"),
    CaseState.SUBSTANTIATED: N_("Substantiated"),
    CaseState.RECTIFYING: N_("Being rectified"),
    CaseState.DEFERRED: N_("Deferred"),
    CaseState.RECTIFIED: N_("Rectified"),
    CaseState.REOPENED: N_("Reopened for review"),
    CaseState.CLOSED: N_("Closed"),
}

CHANNELS: dict[str, str] = {
    "telegram": N_("Telegram"),
    "visit": N_("Visit"),
    "forum": N_("Forum"),
    "mailbox": N_("Mailbox"),
    "letter": N_("Letter"),
}

ROLES: dict[str, str] = {
    "resident": N_("Resident"),
    "organiser": N_("Organiser"),
    "staff": N_("Unit staff"),
    "system": N_("System"),
}

# Buttons
OPINION = N_("📝 Send an opinion or complaint")
MY_CASES = N_("📋 My opinions")
ABOUT = N_("ℹ️ How it works")
CANCEL = N_("✖️ Cancel")
OTHER_ITEM = N_("Something else")
CONTINUE = N_("Continue ➡️")
SKIP_ATTACHMENTS = N_("No attachments, continue ➡️")
NAMED = N_("👤 Reply to me by name")
ANONYMOUS = N_("🕶 Stay anonymous to the office")
SEND = N_("✅ Submit")
RESTART = N_("✏️ Start again")
RESUME = N_("Continue my opinion")
DROP = N_("Discard it")
CASE_BUTTON = N_("No. %(number)s")
NEW_OPINION = N_("📝 Send another")
TALK_PRIVATELY = N_("Talk to me in private")

# Command menus
COMMANDS_RESIDENT = (
    ("start", N_("The evaluation, and what you can do")),
    ("opinion", N_("Send an opinion or complaint")),
    ("status", N_("Follow your opinions")),
    ("cancel", N_("Leave what you are doing")),
    ("help", N_("How to use this bot")),
)
COMMANDS_ORGANISER = (*COMMANDS_RESIDENT,)
