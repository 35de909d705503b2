-- TPC-H Q18, large volume customer. Validation parameters: QUANTITY = 300.
-- Adapted: ORDER BY o_totalprice DESC, o_orderdate dropped (a stream table is a set);
-- LIMIT 100 dropped (no top-k maintenance: the stream table holds every group).
SELECT c_name, c_custkey, o_orderkey, o_orderdate, o_totalprice, sum(l_quantity) AS sum_qty
  FROM customer, orders, lineitem
 WHERE o_orderkey IN (SELECT l_orderkey
                        FROM lineitem
                       GROUP BY l_orderkey
                      HAVING sum(l_quantity) > 300)
   AND c_custkey = o_custkey
   AND o_orderkey = l_orderkey
 GROUP BY c_name, c_custkey, o_orderkey, o_orderdate, o_totalprice
