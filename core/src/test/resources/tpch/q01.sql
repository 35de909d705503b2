-- TPC-H Q1, pricing summary report. Validation parameters: DELTA = 90.
-- Adapted: ORDER BY l_returnflag, l_linestatus dropped (a stream table is a set).
-- INTERVAL '90' DAY written INTERVAL '90 days' (same value): PostgreSQL prints the
-- former with a field qualifier ('...'::interval day), which the engine's parser cannot read.
SELECT l_returnflag,
       l_linestatus,
       sum(l_quantity) AS sum_qty,
       sum(l_extendedprice) AS sum_base_price,
       sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price,
       sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge,
       avg(l_quantity) AS avg_qty,
       avg(l_extendedprice) AS avg_price,
       avg(l_discount) AS avg_disc,
       count(*) AS count_order
  FROM lineitem
 WHERE l_shipdate <= DATE '1998-12-01' - INTERVAL '90 days'
 GROUP BY l_returnflag, l_linestatus
