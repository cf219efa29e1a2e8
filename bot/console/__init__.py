"""The web console (design §11): served by ``evalbot run`` beside the webhook, opened as a
Telegram Mini App or from a single-use ``/console`` link in an office browser.

``views`` decides what is shown (no aiohttp); ``server`` serves it; ``auth`` signs people in."""
