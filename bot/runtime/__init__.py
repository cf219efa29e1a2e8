"""The running bot's machinery, the only part of ``bot/`` that speaks to Telegram: intake
(long polling, the webhook), the processor's lanes, the outbox sender, PTB's HTTP over
aiohttp, and the scheduled jobs. The domain (the rest of ``bot/``) imports none of it."""
