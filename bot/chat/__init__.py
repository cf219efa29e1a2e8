"""What a person sees in Telegram, with no Telegram: keyboards, labels, callback data, long
texts split, flows in progress and the notifications queued for later."""
