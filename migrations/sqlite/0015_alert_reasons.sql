-- Why a channel alert was queued when no alert rule queued it: `ownership: <rule as written>`
-- for the channel an ownership rule names (NULL: rule_id says which rule, or neither: the
-- channel's own settings).
ALTER TABLE outbox ADD COLUMN reason TEXT;
-- Why each delivery was sent (`alert rule 3`, `ownership: tag:team=checkout -> #checkout`,
-- `channel settings`, `test`, `hourly cap digest`, `summary`), shown with the delivery log.
ALTER TABLE channel_deliveries ADD COLUMN reason TEXT;
