-- TPC-H-shaped workload: the refresh functions, the changes that the
-- dynamic tables of queries.sql are refreshed after.  Load after
-- schema.sql and generate.sql (see schema.sql).
--
-- The specification's two:
--   tpch.rf1(n, seed)  inserts n new orders (keys after the largest one)
--                      with 1 to 7 lineitems each, generated as
--                      tpch.generate does (the specification's RF1 inserts
--                      SF * 1,500 orders, 0.1% of them);
--   tpch.rf2(n, seed)  deletes n existing orders, picked at random, with
--                      their lineitems (RF2).
-- The updates that issue 13 adds, on every other table:
--   tpch.update_orders(n, seed)     n orders get new discounts on all their
--                                   lineitems and the total price that
--                                   follows; half of them a new priority,
--                                   half a new comment, one in ten another
--                                   customer (any customer: one that never
--                                   ordered may get its first order);
--   tpch.rename_parts(n, seed)      n parts get a new name (five colours);
--   tpch.update_partsupp(n, seed)   n part-supplier rows get a new
--                                   available quantity and supply cost;
--   tpch.move_customers(n, seed)    n customers move to another nation
--                                   (their phone's country code follows)
--                                   with a new account balance;
--   tpch.update_suppliers(n, seed)  n suppliers get a new account balance
--                                   and comment, one in ten with
--                                   "Customer ... Complaints" (Q16);
--   tpch.move_nation(seed)          one nation moves to another region.
-- Each returns how many orders (parts, part-supplier rows, customers,
-- suppliers, nations) it inserted, deleted or updated.  Rows are picked by
-- hashing the seed (tpch.rnd), so the same seed on the same data makes the
-- same changes.
--
-- tpch.change_round(fraction, seed) is one round of all of them, touching
-- about fraction of the orders (0.001 = 0.1%, 0.01 = 1%): 40% of those
-- are new orders (RF1), 40% deleted ones (RF2), 20% updated ones; and the
-- same fraction of the parts, part-supplier rows, customers and suppliers,
-- and of the 25 nations, each count rounded up or down at random so that
-- it is proportionate on average (a nation moves in one round of 40 at 0.1%).
-- It returns a line saying what it changed.

SET search_path = tpch, public;

-- share(x, seed, stream): x rounded down or up at random, up with the
-- probability of its fraction (so that its mean is x).
CREATE OR REPLACE FUNCTION share(x numeric, seed integer, stream integer) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
SELECT floor(x + tpch.rnd(seed, stream, 0)::numeric)::integer
$$;

-- pick_orders(n, seed, stream): the keys of up to n distinct existing
-- orders, picked by random order number among those generated so far.
CREATE OR REPLACE FUNCTION pick_orders(n integer, seed integer, stream integer) RETURNS integer[]
LANGUAGE sql STABLE AS $$
SELECT ARRAY(
    SELECT c.k
      FROM (SELECT tpch.order_key(tpch.rint(seed, stream, i, 1, m.top)) AS k, min(i) AS first
              FROM (SELECT tpch.order_number(max(o_orderkey)) AS top FROM tpch.orders) m,
                   generate_series(1, 2 * n + 20) i
             GROUP BY 1) c
      JOIN tpch.orders o ON o.o_orderkey = c.k
     ORDER BY c.first
     LIMIT n)
$$;

-- pick_keys(n, seed, stream, top): up to n distinct keys from 1 to top.
CREATE OR REPLACE FUNCTION pick_keys(n integer, seed integer, stream integer, top integer) RETURNS integer[]
LANGUAGE sql IMMUTABLE AS $$
SELECT ARRAY(SELECT DISTINCT tpch.rint(seed, stream, i, 1, top)::integer FROM generate_series(1, n) i)
$$;

-- The functions below are SQL functions of several statements: each
-- statement sees what the ones before it wrote, and the last one's count
-- is what the function returns.  They read tpch.generation only in scalar
-- subqueries: joined, its column seed would hide the parameter seed.

CREATE OR REPLACE FUNCTION rf1(n integer, seed integer) RETURNS bigint
LANGUAGE sql AS $$
SELECT tpch.add_orders(coalesce(tpch.order_number(max(o_orderkey)), 0) + 1, n, seed)
  FROM tpch.orders HAVING n > 0;
SELECT greatest(n, 0)::bigint;
$$;

CREATE OR REPLACE FUNCTION rf2(n integer, seed integer) RETURNS bigint
LANGUAGE sql AS $$
WITH k AS (SELECT unnest(tpch.pick_orders(n, seed, 801)) AS k),
     l AS (DELETE FROM tpch.lineitem WHERE l_orderkey IN (SELECT k FROM k)),
     o AS (DELETE FROM tpch.orders WHERE o_orderkey IN (SELECT k FROM k) RETURNING 1)
SELECT count(*) FROM o;
$$;

CREATE OR REPLACE FUNCTION update_orders(n integer, seed integer) RETURNS bigint
LANGUAGE sql AS $$
UPDATE tpch.lineitem
   SET l_discount = tpch.rint(seed, 803, l_orderkey::bigint * 8 + l_linenumber, 0, 10) / 100.0
 WHERE l_orderkey = ANY (tpch.pick_orders(n, seed, 802));
WITH u AS (
    UPDATE tpch.orders o
       SET o_totalprice = t.totalprice,
           o_orderpriority = CASE WHEN tpch.rnd(seed, 804, o.o_orderkey) < 0.5
                                  THEN tpch.pick(tpch.priorities(), seed, 805, o.o_orderkey)
                                  ELSE o.o_orderpriority END,
           o_comment = CASE WHEN tpch.rnd(seed, 806, o.o_orderkey) < 0.5
                            THEN tpch.random_text(p.pool, seed, 807, o.o_orderkey, 19, 78)
                            ELSE o.o_comment END,
           o_custkey = CASE WHEN tpch.rnd(seed, 808, o.o_orderkey) < 0.1
                            THEN tpch.rint(seed, 809, o.o_orderkey, 1, (SELECT g.customers FROM tpch.generation g))
                            ELSE o.o_custkey END
      FROM (SELECT l_orderkey, round(sum(l_extendedprice * (1 + l_tax) * (1 - l_discount)), 2) AS totalprice
              FROM tpch.lineitem WHERE l_orderkey = ANY (tpch.pick_orders(n, seed, 802))
             GROUP BY l_orderkey) t,
           tpch.text_pool p
     WHERE o.o_orderkey = t.l_orderkey
    RETURNING 1)
SELECT count(*) FROM u;
$$;

CREATE OR REPLACE FUNCTION rename_parts(n integer, seed integer) RETURNS bigint
LANGUAGE sql AS $$
WITH u AS (
    UPDATE tpch.part SET p_name = tpch.part_name(seed, 812, p_partkey)
     WHERE p_partkey = ANY (tpch.pick_keys(n, seed, 811, (SELECT g.parts FROM tpch.generation g)))
    RETURNING 1)
SELECT count(*) FROM u;
$$;

CREATE OR REPLACE FUNCTION update_partsupp(n integer, seed integer) RETURNS bigint
LANGUAGE sql AS $$
WITH u AS (
    UPDATE tpch.partsupp
       SET ps_availqty = tpch.rint(seed, 823, ps_partkey::bigint * 4 + ps_suppkey, 1, 9999),
           ps_supplycost = tpch.amount(seed, 824, ps_partkey::bigint * 4 + ps_suppkey, 1, 1000)
     WHERE (ps_partkey, ps_suppkey) IN
           (SELECT p, tpch.part_supplier(p, tpch.rint(seed, 822, i, 0, 3)::integer,
                                         (SELECT g.suppliers FROM tpch.generation g))
              FROM (SELECT i, tpch.rint(seed, 821, i, 1, (SELECT g.parts FROM tpch.generation g)) AS p
                      FROM generate_series(1, n) i) x)
    RETURNING 1)
SELECT count(*) FROM u;
$$;

CREATE OR REPLACE FUNCTION move_customers(n integer, seed integer) RETURNS bigint
LANGUAGE sql AS $$
WITH u AS (
    UPDATE tpch.customer c
       SET c_nationkey = x.nationkey,
           c_phone = (x.nationkey + 10) || substr(c.c_phone, 3),
           c_acctbal = tpch.amount(seed, 833, c.c_custkey, -999.99, 9999.99)
      FROM (SELECT c_custkey, (c_nationkey + tpch.rint(seed, 832, c_custkey, 1, 24))::integer % 25 AS nationkey
              FROM tpch.customer
             WHERE c_custkey = ANY (tpch.pick_keys(n, seed, 831, (SELECT g.customers FROM tpch.generation g)))) x
     WHERE c.c_custkey = x.c_custkey
    RETURNING 1)
SELECT count(*) FROM u;
$$;

CREATE OR REPLACE FUNCTION update_suppliers(n integer, seed integer) RETURNS bigint
LANGUAGE sql AS $$
WITH u AS (
    UPDATE tpch.supplier
       SET s_acctbal = tpch.amount(seed, 842, s_suppkey, -999.99, 9999.99),
           s_comment = tpch.supplier_comment(p.pool, seed, 843, s_suppkey,
                                             CASE WHEN tpch.rnd(seed, 844, s_suppkey) < 0.1 THEN 'Complaints' END)
      FROM tpch.text_pool p
     WHERE s_suppkey = ANY (tpch.pick_keys(n, seed, 841, (SELECT g.suppliers FROM tpch.generation g)))
    RETURNING 1)
SELECT count(*) FROM u;
$$;

CREATE OR REPLACE FUNCTION move_nation(seed integer) RETURNS bigint
LANGUAGE sql AS $$
WITH u AS (
    UPDATE tpch.nation SET n_regionkey = (n_regionkey + tpch.rint(seed, 852, 0, 1, 4)) % 5
     WHERE n_nationkey = tpch.rint(seed, 851, 0, 0, 24)
    RETURNING 1)
SELECT count(*) FROM u;
$$;

CREATE OR REPLACE FUNCTION change_round(fraction numeric, seed integer) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    g tpch.generation;
    n integer;
    new_orders integer;
    to_delete integer;
    deleted bigint;
    updated bigint;
    parts bigint;
    partsupp bigint;
    customers bigint;
    suppliers bigint;
    nations bigint := 0;
BEGIN
    SELECT * INTO STRICT g FROM tpch.generation;
    n := tpch.share(fraction * g.orders, seed, 901);
    new_orders := tpch.share(0.4 * n, seed, 902);
    to_delete := tpch.share(0.4 * n, seed, 903);
    PERFORM tpch.rf1(new_orders, seed);
    deleted := tpch.rf2(to_delete, seed);
    updated := tpch.update_orders(greatest(n - new_orders - to_delete, 0), seed);
    parts := tpch.rename_parts(tpch.share(fraction * g.parts, seed, 904), seed);
    partsupp := tpch.update_partsupp(tpch.share(fraction * 4 * g.parts, seed, 905), seed);
    customers := tpch.move_customers(tpch.share(fraction * g.customers, seed, 906), seed);
    suppliers := tpch.update_suppliers(tpch.share(fraction * g.suppliers, seed, 907), seed);
    IF tpch.share(fraction * 25, seed, 908) > 0 THEN
        nations := tpch.move_nation(seed);
    END IF;
    RETURN format('orders: %s new, %s deleted, %s updated; parts renamed: %s; partsupp: %s; '
                  'customers moved: %s; suppliers: %s; nations moved: %s',
                  new_orders, deleted, updated, parts, partsupp, customers, suppliers, nations);
END $$;

RESET search_path;
