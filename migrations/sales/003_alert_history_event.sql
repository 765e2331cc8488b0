-- Replays compare what a shadow Sales did for an event with what live Sales did for it
-- (src/sales/shadow.ts): the history rows of an event, found by its id.
CREATE INDEX alert_history_event ON alert_history (event_id);
