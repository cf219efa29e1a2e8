"""Telegram-facing flows and commands: read the update, check the role, call the core, reply."""
