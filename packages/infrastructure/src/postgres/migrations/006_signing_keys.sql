-- The keys that sign JWT access tokens (ACCESS_TOKEN_FORMAT=jwt), shared by every instance.
-- A key is published in the JWKS from the moment it is stored; it signs from `not_before` until
-- a later key's `not_before` passes, and stays published for one access-token lifetime (and a
-- margin) after that. Rows are never updated: a rotation is an insert. The private key is kept
-- here in the clear, as the other service keys are (service_keys); a deployment that wants it out
-- of the database gives its keys by configuration instead (ACCESS_TOKEN_SIGNING_KEYS).
CREATE TABLE signing_keys (
  -- The RFC 7638 thumbprint of the public key.
  kid text PRIMARY KEY,
  algorithm text NOT NULL CHECK (algorithm = 'EdDSA'),
  public_jwk jsonb NOT NULL,
  private_jwk jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  not_before timestamptz NOT NULL
);
