-- The pruning job deletes token rows past their expiry in small batches, oldest first
-- (`WHERE expires_at <= $1 ORDER BY expires_at LIMIT n FOR UPDATE SKIP LOCKED`): these indexes make
-- each batch read only the rows it deletes, however many live tokens the tables hold.
CREATE INDEX access_tokens_expires_at_idx ON access_tokens (expires_at);
CREATE INDEX refresh_tokens_expires_at_idx ON refresh_tokens (expires_at);
