-- Catch-up consumers of the log (subscriptions): where each one stands, by name. A consumer reads
-- the log in commit-safe order after its checkpoint and moves the checkpoint in the transaction
-- that applies what it read, so a crash never applies a batch twice or skips one.
CREATE TABLE subscription_checkpoints (
  name text PRIMARY KEY,
  transaction_id xid8 NOT NULL,
  global_position bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- The login-activity consumer's read model: per account, its last login and the failed logins
-- since. No personal data: an erased account's row is deleted.
CREATE TABLE login_activity (
  user_id text PRIMARY KEY,
  last_login_at timestamptz,
  last_login_client_id text,
  consecutive_failures integer NOT NULL DEFAULT 0,
  last_failure_at timestamptz,
  last_failure_reason text
);
