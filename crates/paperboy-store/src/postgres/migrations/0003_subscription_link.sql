-- An active subscription asked for from an account it does not belong to:
-- the account waiting for the address's owner to confirm the link (with the
-- token in confirm_token_hash). NULL when no link is asked for.
ALTER TABLE subscriptions ADD COLUMN link_user_id BIGINT REFERENCES users (id) ON DELETE SET NULL;
-- Outbox kinds: confirm | link | digest | alert.
