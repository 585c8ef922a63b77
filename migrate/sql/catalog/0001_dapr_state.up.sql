-- Tables of Dapr's state.postgresql v2 component (its migration 1)
-- with its defaults: tablePrefix "" and metadataTableName "dapr_metadata".
-- They are created here exactly as Dapr's own migration would create them,
-- and the marker row records Dapr's migration level 1 as done; 0002 brings
-- them to level 2 (components-contrib v1.17.3).
-- gen_random_uuid() is in core PostgreSQL since 13 (no pgcrypto needed).

CREATE TABLE IF NOT EXISTS dapr_metadata (
  key text NOT NULL PRIMARY KEY,
  value text NOT NULL
);

CREATE TABLE IF NOT EXISTS state (
  key text NOT NULL PRIMARY KEY,
  value bytea NOT NULL,
  etag uuid NOT NULL DEFAULT gen_random_uuid(),
  created_at timestamp with time zone NOT NULL DEFAULT now(),
  updated_at timestamp with time zone,
  expires_at timestamp with time zone
);

-- Dapr runs "CREATE INDEX ON state (expires_at)"; PostgreSQL names that
-- index state_expires_at_idx, so naming it explicitly gives the same index.
CREATE INDEX IF NOT EXISTS state_expires_at_idx ON state (expires_at);

-- Key "migrations-state-v2-" + tablePrefix; value = number of Dapr
-- migrations applied.
INSERT INTO dapr_metadata (key, value) VALUES ('migrations-state-v2-', '1')
ON CONFLICT (key) DO NOTHING;
