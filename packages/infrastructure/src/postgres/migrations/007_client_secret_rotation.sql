-- A client's secret can be rotated with an overlap: the secret it replaced keeps working until
-- previous_valid_until, so that the client's deployments can switch without an outage.
ALTER TABLE client_credentials ADD COLUMN previous_secret_digest text;
ALTER TABLE client_credentials ADD COLUMN previous_valid_until timestamptz;
ALTER TABLE client_credentials ADD CONSTRAINT client_credentials_previous_complete
  CHECK ((previous_secret_digest IS NULL) = (previous_valid_until IS NULL));

-- When each client's secret last changed, for `pos-auth clients list` (a projection: rebuilt
-- from the log when its version changes).
ALTER TABLE clients ADD COLUMN secret_rotated_at timestamptz;
