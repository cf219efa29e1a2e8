"""The core: campaign config, storage, intake, outbox, scheduler, templates and CLI."""
