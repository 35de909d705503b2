-- TPC-H Q18, large volume customer. Validation parameters: QUANTITY = 300.
-- Adapted: LIMIT 100 dropped (TopK is not maintained yet: with the LIMIT, DIFFERENTIAL and
-- IMMEDIATE would refuse the query, so the stream table holds every row and the ORDER BY, kept, is
-- ignored as for any stream table).
SELECT c_name, c_custkey, o_orderkey, o_orderdate, o_totalprice, sum(l_quantity) AS sum_qty
  FROM customer, orders, lineitem
 WHERE o_orderkey IN (SELECT l_orderkey
                        FROM lineitem
                       GROUP BY l_orderkey
                      HAVING sum(l_quantity) > 300)
   AND c_custkey = o_custkey
   AND o_orderkey = l_orderkey
 GROUP BY c_name, c_custkey, o_orderkey, o_orderdate, o_totalprice
 ORDER BY o_totalprice DESC, o_orderdate
