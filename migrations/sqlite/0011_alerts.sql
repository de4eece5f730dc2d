-- Alert channels: chat services and signed webhooks a project posts to. url and secret are
-- credentials (a Slack URL carries one): never logged, shown masked once saved.
-- kind: slack | discord | mattermost | teams | webhook; events: comma-separated kinds of
-- alert the channel gets (NULL: all), min_level and environment narrow it further;
-- disabled_at is set when a receiver answers 410 Gone.
CREATE TABLE channels (
    id INTEGER PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT,
    events TEXT,
    min_level TEXT,
    environment TEXT,
    created_at BIGINT NOT NULL,
    disabled_at BIGINT,
    disabled_reason TEXT
);
CREATE INDEX channels_by_project ON channels (project_id);

-- One outbox for every notification: a row with a channel_id is an alert to that channel,
-- one without is mail.
ALTER TABLE outbox ADD COLUMN channel_id BIGINT REFERENCES channels(id) ON DELETE CASCADE;
CREATE INDEX outbox_by_channel ON outbox (channel_id, sent_at);

-- Every delivery attempt: what the receiver answered (status NULL: no answer) and how fast.
CREATE TABLE channel_deliveries (
    id INTEGER PRIMARY KEY,
    channel_id BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    outbox_id BIGINT,
    event TEXT NOT NULL,
    at BIGINT NOT NULL,
    status BIGINT,
    latency_ms BIGINT,
    error TEXT
);
CREATE INDEX channel_deliveries_by_channel ON channel_deliveries (channel_id, at);
