-- TPC-H Q11, important stock identification. Validation parameters: NATION = GERMANY, FRACTION =
-- 0.0001.
-- Adapted: FRACTION is the validation value at every scale (the specification scales it as 0.0001 /
-- SF for performance runs).
SELECT ps_partkey, sum(ps_supplycost * ps_availqty) AS value
  FROM partsupp, supplier, nation
 WHERE ps_suppkey = s_suppkey
   AND s_nationkey = n_nationkey
   AND n_name = 'GERMANY'
 GROUP BY ps_partkey
HAVING sum(ps_supplycost * ps_availqty) > (SELECT sum(ps_supplycost * ps_availqty) * 0.0001
                                             FROM partsupp, supplier, nation
                                            WHERE ps_suppkey = s_suppkey
                                              AND s_nationkey = n_nationkey
                                              AND n_name = 'GERMANY')
 ORDER BY value DESC
