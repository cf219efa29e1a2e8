"""Short labels (buttons, states, channels, command descriptions), marked for translation.

They are plain text, not HTML; :meth:`bot.texts.Texts.gettext` translates them.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.campaign import Campaign
from bot.db.roles import ALL_UNITS
from bot.texts import N_, Texts
from bot.vocabulary import NOT_SUBSTANTIATED, CaseState, Rating, Role, Severity

STATES: dict[str, str] = {
    CaseState.FILED: N_("Received"),
    CaseState.VERIFYING: N_("Being verified"),
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

OUTCOMES: dict[str, str] = {
    NOT_SUBSTANTIATED: N_("not substantiated"),
    Severity.GENERAL: N_("substantiated, general problem"),
    Severity.PUNISHED: N_("substantiated, punished"),
}

ROLES: dict[str, str] = {
    Role.RESIDENT: N_("Resident"),
    Role.ORGANISER: N_("Organiser"),
    Role.STAFF: N_("Unit staff"),
    Role.SUPERVISOR: N_("Supervisor"),
    Role.EVALUATOR: N_("Evaluator"),
    Role.SYSTEM: N_("System"),
}

# the roles a person is invited to (and may have revoked), as the organiser reads them
HELD_ROLES: dict[str, str] = {
    Role.STAFF: N_("Staff of an office"),
    Role.SUPERVISOR: N_("Supervisor"),
    Role.EVALUATOR: N_("Evaluator"),
}

SEVERITIES: dict[str, str] = {
    Severity.GENERAL: N_("general"),
    Severity.PUNISHED: N_("punished"),
}

RATINGS: dict[str, str] = {
    Rating.SATISFIED: N_("satisfied"),
    Rating.BASIC: N_("basically satisfied"),
    Rating.UNSATISFIED: N_("not satisfied"),
}

RATING_BUTTONS: dict[Rating, str] = {
    Rating.SATISFIED: N_("😊 Satisfied"),
    Rating.BASIC: N_("🙂 Basically satisfied"),
    Rating.UNSATISFIED: N_("🙁 Not satisfied"),
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
NAMED_OFFLINE = N_("👤 Named to the office (type the name next)")
ANONYMOUS_OFFLINE = N_("🕶 Anonymous to the office")
SEND = N_("✅ Submit")
RESTART = N_("✏️ Start again")
RESUME = N_("↩️ Continue it")
DROP = N_("Discard it")
DROP_AND_GO = N_("Discard it and go on")
OPEN_CASE = N_("Open No. %(number)s")
CASE_BUTTON = N_("No. %(number)s")
NEW_OPINION = N_("📝 Send another")
TALK_PRIVATELY = N_("Talk to me in private")
ALL_OFFICES = N_("all offices")
FILES = N_("📎 Photos and documents (%(count)s)")
CONSOLE_BUTTON = N_("Console")
REOPEN = N_("Open the ballot window again")
OPEN_EARLY = N_("Open the ballot window now")
CARD_PREVIOUS = N_("◀️ Previous")
CARD_NEXT = N_("Next ▶️")
CARD_LIST = N_("📋 All offices")
CARD_LEFT = N_("📝 Not yet answered: %(count)s")
CARD_ALL_DONE = N_("✅ All answered")
CARD_GO_TO = N_("%(name)s (%(count)s left)")
CARD_BRING = N_("🗳 Open my ballot card")
CHART_TITLE = N_("%(campaign)s: composite scores")
LIVE_RANKING = N_("Ranking (live, not yet published)")
PUBLISHED_RANKING = N_("The published ranking")
PUBLISH_AGAIN = N_("Publish again")
PUBLISH_NOW = N_("Publish")
CHOICE_GONE = N_("This question is over: please send the command again.")
FEWER_THAN = N_("fewer than %(k)s answers")
NO_SCORE = N_("no ballots")
QR_CAPTION = N_("%(count)s invitations, one QR code each, numbered as in the list")
FILE_CAPTION = N_("No. %(number)s, attachment %(n)s of %(total)s")
LIST_OPEN = N_("Open cases")
IN_CONSOLE = N_("In the console")
LIST_ALL = N_("All cases")
LIST_OVERDUE = N_("Overdue cases")
SHOW_OVERDUE = N_("⚠️ Overdue")
SHOW_ALL = N_("All, closed too")

# Command menus
HELP_ORGANISER = N_("As an organiser you also have:")
HELP_SUPERVISOR = N_("As a supervisor you also have:")
HELP_STAFF = N_("As staff of an office you also have:")
HELP_EVALUATOR = N_("As an evaluator you also have:")
COMMANDS_RESIDENT = (
    ("start", N_("The evaluation, and what you can do")),
    ("opinion", N_("Send an opinion or complaint")),
    ("status", N_("Follow your opinions")),
    ("cancel", N_("Leave what you are doing")),
    ("subscribe", N_("Receive the results when published")),
    ("help", N_("How to use this bot")),
)
COMMANDS_STAFF = (
    ("cases", N_("The cases of your office")),
    ("overdue", N_("Cases past their deadline")),
    ("console", N_("A link to the web console")),
    *COMMANDS_RESIDENT,
)
COMMANDS_SUPERVISOR = COMMANDS_STAFF
COMMANDS_EVALUATOR = (
    ("ballot", N_("My ballot card")),
    *COMMANDS_RESIDENT,
)
COMMANDS_ORGANISER = (
    ("cases", N_("All cases")),
    ("overdue", N_("Cases past their deadline")),
    ("summary", N_("Per office: open, overdue, reopened, deductions")),
    ("hot", N_("Hot issues: counts and recurring topics")),
    ("invite", N_("Invite staff, supervisors or evaluators")),
    ("ballots", N_("The ballot window: open or close it")),
    ("ballot", N_("My ballot card")),
    ("turnout", N_("How many ballots are answered")),
    ("rank", N_("The ranking")),
    ("results", N_("One office's results in detail")),
    ("daily", N_("Enter a daily-work score")),
    ("flagged", N_("Offices below the threshold")),
    ("proposal", N_("Record a handling proposal")),
    ("publish", N_("Publish the results")),
    ("finding", N_("Record a finding from outside the bot")),
    ("record", N_("Record an opinion that came offline")),
    ("export", N_("Spreadsheet of the cases")),
    ("console", N_("A link to the web console")),
    ("newcases", N_("New cases: each as a message, or a digest")),
    *COMMANDS_RESIDENT,
)

# What /help shows after a command: its arguments, by name (an office as it is called)
HELP_ARGUMENTS: dict[str, str] = {
    "invite": N_("staff OFFICE | supervisor [OFFICES] | evaluator CATEGORY COUNT [OFFICES]"),
    "ballots": N_("open | close"),
    "rank": N_("[YEAR]"),
    "results": N_("[OFFICE]"),
    "daily": N_("OFFICE SCORE"),
    "proposal": N_("OFFICE TEXT"),
    "finding": N_("OFFICE 一般|处分 CASE-NUMBER-OR-REFERENCE [WHAT WAS FOUND]"),
    "hot": N_("[OFFICE] [DAYS]"),
    "export": N_("cases | results"),
    "newcases": N_("each | hourly | daily | MINUTES"),
}

# Spreadsheets
YES = N_("yes")
SHEET_CASES = N_("Cases")
SHEET_UNITS = N_("Offices")
CASE_COLUMNS = (
    N_("No."),
    N_("Round"),
    N_("Office"),
    N_("Item"),
    N_("Channel"),
    N_("Source"),
    N_("Submitted"),
    N_("State"),
    N_("Outcome"),
    N_("Deadline"),
    N_("Overdue"),
    N_("Rating"),
    N_("Deduction"),
    N_("Anonymous to the office"),
    N_("Resident"),
    N_("Text"),
)
UNIT_COLUMNS = (
    N_("Office"),
    N_("Cases"),
    N_("Open"),
    N_("Overdue"),
    N_("Reopened"),
    N_("Deductions"),
    N_("Complaint score C"),
    N_("Cases counted"),
)
SHEET_RANKING = N_("Ranking")
SHEET_CHANGES = N_("Change from {year}")
CHANGE_FROM = N_("change from {year}")
AGAINST_PUBLISHED = N_("Composite: change against {year} as published (where it differs)")
CHANGE_COLUMNS = (
    N_("Office"),
    N_("Composite"),
    N_("Democratic score"),
    N_("Complaints"),
    N_("Daily-work score"),
)
SHEET_ITEMS = N_("Items")
SHEET_DEDUCTIONS = N_("Deductions, case by case")
DEDUCTION_COLUMNS = (
    N_("Office"),
    N_("Case or reference"),
    N_("Severity"),
    N_("Points deducted"),
    N_("Times reported"),
)
RANKING_COLUMNS = (
    N_("Rank"),
    N_("Office"),
    N_("Democratic score"),
    N_("Complaints"),
    N_("Daily-work score"),
    N_("Composite"),
    N_("Below the threshold"),
    N_("Ballots"),
    N_("Handling proposal"),
)
ITEM_COLUMNS = (
    N_("Office"),
    N_("Item"),
    N_("Satisfied %"),
    N_("Basically satisfied %"),
    N_("Not satisfied %"),
    N_("Don't know %"),
    N_("Score"),
    N_("Ballots"),
)


def offices_named(campaign: Campaign, texts: Texts, lang: str, units: Iterable[str]) -> str:
    """A set of offices as people read it (an invitation's, a role's): their names in the
    campaign's order, an earlier round's too; none named, or ALL_UNITS, is every office."""
    given = set(units)
    if not given or ALL_UNITS in given:
        return texts.gettext(lang, ALL_OFFICES)
    names = [u.label(lang) for u in campaign.case_units if u.id in given]
    return ("、" if lang == "zh" else ", ").join(names)
