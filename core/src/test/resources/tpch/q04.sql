-- TPC-H Q4, order priority checking. Validation parameters: DATE = 1993-07-01.
-- Adapted: ORDER BY o_orderpriority dropped (a stream table is a set).
-- INTERVAL '3' MONTH written INTERVAL '3 months' (same value): PostgreSQL prints the
-- former with a field qualifier ('...'::interval month), which the engine's parser cannot read.
SELECT o_orderpriority, count(*) AS order_count
  FROM orders
 WHERE o_orderdate >= DATE '1993-07-01'
   AND o_orderdate < DATE '1993-07-01' + INTERVAL '3 months'
   AND EXISTS (SELECT *
                 FROM lineitem
                WHERE l_orderkey = o_orderkey
                  AND l_commitdate < l_receiptdate)
 GROUP BY o_orderpriority
