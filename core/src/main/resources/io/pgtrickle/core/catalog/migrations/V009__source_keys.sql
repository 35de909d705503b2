-- Catalog version 9: the primary key of each source table as the stream table's SQL was compiled
-- against it: primary_key, its column names in key order, and primary_key_constraint, the
-- constraint's oid. NULL: the table had no key checked at each statement. The compiled SQL reads a
-- table's previous state by its key and stores rows unique by a key without counting them, so a
-- refresh or IMMEDIATE maintenance refuses to run once the key differs, until create_or_replace
-- compiles the query again (pgtrickle._require_keys).
ALTER TABLE pgtrickle.pgt_dependencies ADD COLUMN primary_key text[], ADD COLUMN primary_key_constraint oid;

-- Stream tables created before: their sources' keys now, the best evidence of the keys then, for
-- the tables whose columns they read (PgResolver.keyOf; its test of the key's types for a hash
-- equality needs routines that a fresh install has not created yet).
-- The same reading as pgtrickle._primary_key and _primary_key_constraint (routines.sql, installed
-- after the migrations).
UPDATE pgtrickle.pgt_dependencies d
   SET primary_key = (SELECT array_agg(a.attname::text ORDER BY k.i)
                        FROM pg_index x
                        CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY k(attnum, i)
                        JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
                       WHERE x.indrelid = d.source_relid AND x.indisprimary AND x.indimmediate),
       primary_key_constraint = (SELECT c.oid FROM pg_constraint c
                                  WHERE c.conrelid = d.source_relid AND c.contype = 'p' AND NOT c.condeferrable)
 WHERE d.source_type IN ('TABLE', 'STREAM_TABLE') AND cardinality(d.columns_used) > 0;
