DROP INDEX IF EXISTS state_row_id_uidx;
ALTER TABLE state DROP COLUMN IF EXISTS row_id;
UPDATE dapr_metadata SET value = '1' WHERE key = 'migrations-state-v2-';
