-- Undo 0001: drops Dapr's state table (and all payments state in it) and the
-- metadata table with its migration marker, so Dapr would recreate both.
DROP TABLE IF EXISTS state;
DROP TABLE IF EXISTS dapr_metadata;
