-- TPC-H Q15, top supplier. Validation parameters: DATE = 1996-01-01.
-- Adapted: the view revenue0, which the specification creates before the query and drops after it,
-- is a common table expression (a stream table is defined by one statement).
WITH revenue0 (supplier_no, total_revenue) AS (
    SELECT l_suppkey, sum(l_extendedprice * (1 - l_discount))
      FROM lineitem
     WHERE l_shipdate >= DATE '1996-01-01'
       AND l_shipdate < DATE '1996-01-01' + INTERVAL '3' MONTH
     GROUP BY l_suppkey)
SELECT s_suppkey, s_name, s_address, s_phone, total_revenue
  FROM supplier, revenue0
 WHERE s_suppkey = supplier_no
   AND total_revenue = (SELECT max(total_revenue) FROM revenue0)
 ORDER BY s_suppkey
