-- Request counts per client IP over a fixed one-minute window (API.md "Abuse limits"), shared by
-- every instance on this database. The table is rate-limiter-flexible's PostgreSQL store, created
-- here (the library is told it exists) with its own columns: key (`ip:` and a keyed hash of the
-- address, never the address itself), points consumed in the window, and the window's end in epoch
-- milliseconds. Each instance deletes rows whose window ended an hour ago.
--
-- UNLOGGED: a count is worth one minute, and writing it to the WAL made each counted request cost a
-- commit flush (measured on PostgreSQL 15 here: about 1,200 counts/s logged against 10,000/s
-- unlogged on one hot key). The price: a crash of PostgreSQL empties the table, and a standby has
-- no copy, so after a failover every budget starts afresh.
CREATE UNLOGGED TABLE rate_limits (
  key varchar(255) PRIMARY KEY,
  points integer NOT NULL DEFAULT 0,
  expire bigint
);
