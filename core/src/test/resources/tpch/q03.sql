-- TPC-H Q3, shipping priority. Validation parameters: SEGMENT = BUILDING, DATE = 1995-03-15.
-- Adapted: ORDER BY revenue DESC, o_orderdate dropped (a stream table is a set);
-- LIMIT 10 dropped (no top-k maintenance: the stream table holds every group).
SELECT l_orderkey,
       sum(l_extendedprice * (1 - l_discount)) AS revenue,
       o_orderdate,
       o_shippriority
  FROM customer, orders, lineitem
 WHERE c_mktsegment = 'BUILDING'
   AND c_custkey = o_custkey
   AND l_orderkey = o_orderkey
   AND o_orderdate < DATE '1995-03-15'
   AND l_shipdate > DATE '1995-03-15'
 GROUP BY l_orderkey, o_orderdate, o_shippriority
