-- TPC-H-shaped workload: our own data generator, in SQL, written from the
-- TPC-H specification's description of the data (cardinalities per scale
-- factor, value domains and distributions); no code of dbgen or of any
-- other generator.
--
-- tpch.generate(scale_factor, seed) empties the eight tables of schema.sql
--   and fills them: 5 regions, 25 nations, SF * 10,000 suppliers,
--   SF * 150,000 customers, SF * 200,000 parts with 4 suppliers each,
--   SF * 1,500,000 orders with 1 to 7 lineitems each.  Scale factor 0.01
--   loads in seconds, 0.1 in well under a minute.  The same arguments give
--   the same data, whatever the plan: every random value is a hash of the
--   seed, a stream number (one per column) and the row's key (tpch.rnd),
--   not a draw from random().
-- tpch.add_orders(first_number, n, seed) adds n orders, numbered from
--   first_number, with their lineitems; generate() and the refresh
--   function RF1 (refresh.sql) both use it.
--
-- The shape, as the specification describes it:
--   - order keys are sparse: of each 32 consecutive keys the first 8 are
--     used (tpch.order_key); orders are dated uniformly from 1992-01-01 to
--     1998-08-02, and placed by customers whose key is not a multiple of 3
--     (a third of the customers never order);
--   - a lineitem ships 1 to 121 days after its order, is committed 30 to
--     90 days after it and received 1 to 30 days after shipping; its
--     return flag is R or A if it was received by 1995-06-17 (the
--     specification's "current date"), N otherwise; its line status O if it
--     ships after that date, F otherwise; an order's status is F or O when
--     all its lines are, P otherwise, and its total price is the sum of
--     extendedprice * (1 + tax) * (1 - discount) of its lines;
--   - extendedprice is quantity (1 to 50) times the part's retail price,
--     a function of the part key; discount 0.00 to 0.10, tax 0.00 to 0.08;
--   - the supplier of a lineitem is one of its part's four suppliers;
--   - part names are five distinct colour words, types three syllables
--     (STANDARD ANODIZED TIN, ...), containers two (SM CASE, ...), brands
--     Brand#MN of manufacturer M;
--   - phone numbers start with the nation's key + 10 (Q22 reads it);
--     account balances run from -999.99 to 9,999.99;
--   - comments are cut from a text pool of random sentences (as the
--     specification does); SF * 5 suppliers (at least one) have comments
--     with "Customer ... Complaints" (Q16), as many "Customer ...
--     Recommends".
--
-- Load after schema.sql (see there).

SET search_path = tpch, public;

-- rnd(seed, stream, k): a uniform number in [0, 1) for row k of column
-- "stream", the same for the same arguments (53 bits of a 64-bit hash).
-- Inlined into the queries that call it, as are the functions below that
-- are one expression.
CREATE OR REPLACE FUNCTION rnd(seed integer, stream integer, k bigint) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT (hashint8extended(k, seed::bigint * 65536 + stream) & 9007199254740991)::double precision
       / 9007199254740992
$$;

-- rint(seed, stream, k, lo, hi): a uniform integer in [lo, hi].
CREATE OR REPLACE FUNCTION rint(seed integer, stream integer, k bigint, lo bigint, hi bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT lo + floor(tpch.rnd(seed, stream, k) * (hi - lo + 1))::bigint
$$;

-- pick(list, seed, stream, k): one element of list, uniformly.
CREATE OR REPLACE FUNCTION pick(list text[], seed integer, stream integer, k bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT list[1 + floor(tpch.rnd(seed, stream, k) * cardinality(list))::integer]
$$;

-- The value domains of the specification.
CREATE OR REPLACE FUNCTION colours() RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT ARRAY['almond', 'antique', 'aquamarine', 'azure', 'beige', 'bisque', 'black', 'blanched',
             'blue', 'blush', 'brown', 'burlywood', 'burnished', 'chartreuse', 'chiffon', 'chocolate',
             'coral', 'cornflower', 'cornsilk', 'cream', 'cyan', 'dark', 'deep', 'dim', 'dodger', 'drab',
             'firebrick', 'floral', 'forest', 'frosted', 'gainsboro', 'ghost', 'goldenrod', 'green',
             'grey', 'honeydew', 'hot', 'indian', 'ivory', 'khaki', 'lace', 'lavender', 'lawn', 'lemon',
             'light', 'lime', 'linen', 'magenta', 'maroon', 'medium', 'metallic', 'midnight', 'mint',
             'misty', 'moccasin', 'navajo', 'navy', 'olive', 'orange', 'orchid', 'pale', 'papaya',
             'peach', 'peru', 'pink', 'plum', 'powder', 'puff', 'purple', 'red', 'rose', 'rosy', 'royal',
             'saddle', 'salmon', 'sandy', 'seashell', 'sienna', 'sky', 'slate', 'smoke', 'snow', 'spring',
             'steel', 'tan', 'thistle', 'tomato', 'turquoise', 'violet', 'wheat', 'white', 'yellow']
$$;
CREATE OR REPLACE FUNCTION segments() RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT ARRAY['AUTOMOBILE', 'BUILDING', 'FURNITURE', 'MACHINERY', 'HOUSEHOLD']
$$;
CREATE OR REPLACE FUNCTION priorities() RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT ARRAY['1-URGENT', '2-HIGH', '3-MEDIUM', '4-NOT SPECIFIED', '5-LOW']
$$;
CREATE OR REPLACE FUNCTION instructions() RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT ARRAY['DELIVER IN PERSON', 'COLLECT COD', 'NONE', 'TAKE BACK RETURN']
$$;
CREATE OR REPLACE FUNCTION ship_modes() RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT ARRAY['REG AIR', 'AIR', 'RAIL', 'SHIP', 'TRUCK', 'MAIL', 'FOB']
$$;

-- The words of the text pool: our own small grammar's vocabulary, with
-- the words the queries look for ("special ... requests" in Q13).
CREATE OR REPLACE FUNCTION pool_words(kind text) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE kind
       WHEN 'noun' THEN ARRAY['accounts', 'packages', 'requests', 'deposits', 'instructions', 'ideas',
                              'theodolites', 'platelets', 'pinto beans', 'foxes', 'courts', 'excuses',
                              'dependencies', 'asymptotes', 'dolphins', 'orbits', 'patterns', 'gifts',
                              'warhorses', 'braids', 'tithes', 'sheaves', 'frets', 'realms']
       WHEN 'verb' THEN ARRAY['sleep', 'wake', 'are', 'cajole', 'haggle', 'nag', 'use', 'boost', 'affix',
                              'detect', 'integrate', 'maintain', 'nod', 'was', 'lose', 'solve', 'promise',
                              'engage', 'print', 'breach', 'grow', 'impress', 'serve', 'doze', 'kindle']
       WHEN 'adjective' THEN ARRAY['special', 'pending', 'unusual', 'express', 'furious', 'sly', 'careful',
                              'blithe', 'quick', 'fluffy', 'slow', 'quiet', 'ruthless', 'thin', 'close',
                              'daring', 'bold', 'idle', 'busy', 'regular', 'final', 'ironic', 'even', 'silent']
       WHEN 'adverb' THEN ARRAY['sometimes', 'always', 'never', 'furiously', 'slyly', 'carefully',
                              'blithely', 'quickly', 'fluffily', 'slowly', 'quietly', 'boldly', 'idly',
                              'busily', 'regularly', 'finally', 'ironically', 'evenly', 'silently']
       WHEN 'preposition' THEN ARRAY['about', 'above', 'across', 'after', 'against', 'along', 'among',
                              'around', 'at', 'before', 'behind', 'beneath', 'beside', 'between', 'beyond',
                              'by', 'despite', 'during', 'for', 'from', 'inside', 'into', 'near', 'of',
                              'on', 'over', 'past', 'through', 'to', 'toward', 'under', 'upon', 'with']
       ELSE ARRAY['.', '.', '.', ';', ':', '?', '!', ' --'] END
$$;

-- make_text_pool(seed, bytes): bytes of random sentences (ASCII), the
-- text that every comment is a piece of.  Kept as bytea so that a piece
-- is cut in constant time (a text substring counts characters from the
-- start).
CREATE OR REPLACE FUNCTION make_text_pool(seed integer, bytes integer) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
SELECT convert_to(left(string_agg(sentence, ' ' ORDER BY i), bytes), 'UTF8')
  FROM (SELECT i,
               concat_ws(' ',
                         CASE WHEN tpch.rnd(seed, 1, i) < 0.3 THEN tpch.pick(tpch.pool_words('adverb'), seed, 2, i) END,
                         tpch.pick(tpch.pool_words('adjective'), seed, 3, i),
                         tpch.pick(tpch.pool_words('noun'), seed, 4, i),
                         tpch.pick(tpch.pool_words('verb'), seed, 5, i),
                         CASE WHEN tpch.rnd(seed, 6, i) < 0.6
                              THEN tpch.pick(tpch.pool_words('preposition'), seed, 7, i) || ' the '
                                   || tpch.pick(tpch.pool_words('adjective'), seed, 8, i) || ' '
                                   || tpch.pick(tpch.pool_words('noun'), seed, 9, i) END)
               || tpch.pick(tpch.pool_words('terminator'), seed, 10, i) AS sentence
          FROM generate_series(1, bytes / 20) i) s
$$;

-- random_text(pool, seed, stream, k, lo, hi): a piece of the pool of lo to hi
-- characters (the length from the companion stream -stream).
CREATE OR REPLACE FUNCTION random_text(pool bytea, seed integer, stream integer, k bigint, lo integer, hi integer)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT convert_from(substring(pool FROM 1 + floor(tpch.rnd(seed, stream, k) * (length(pool) - hi))::integer
                                  FOR tpch.rint(seed, -stream, k, lo, hi)::integer), 'UTF8')
$$;

-- vstring(seed, stream, k, lo, hi): lo to hi random letters and digits
-- (addresses).
CREATE OR REPLACE FUNCTION vstring(seed integer, stream integer, k bigint, lo integer, hi integer)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT left(md5(seed || ':' || stream || ':' || k) || md5(k || ':' || stream || ':' || seed),
            tpch.rint(seed, -stream, k, lo, hi)::integer)
$$;

-- phone(nation, seed, stream, k): 'CC-LLL-LLL-LLLL', CC the nation's key + 10.
CREATE OR REPLACE FUNCTION phone(nationkey integer, seed integer, stream integer, k bigint)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT (nationkey + 10) || '-' || tpch.rint(seed, stream, k, 100, 999) || '-'
       || tpch.rint(seed, -stream, k, 100, 999) || '-' || tpch.rint(seed, stream + 16384, k, 1000, 9999)
$$;

-- amount(seed, stream, k, lo, hi): an amount in cents from lo to hi.
CREATE OR REPLACE FUNCTION amount(seed integer, stream integer, k bigint, lo numeric, hi numeric)
RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT tpch.rint(seed, stream, k, (lo * 100)::bigint, (hi * 100)::bigint) / 100.0
$$;

-- part_name(seed, stream, k): five distinct colours, the positions
-- a, a + b, ..., a + 4b modulo 92 with b a unit modulo 92 (odd, not a
-- multiple of 23).
CREATE OR REPLACE FUNCTION part_name(seed integer, stream integer, k bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT concat_ws(' ', w[1 + a], w[1 + (a + b) % 92], w[1 + (a + 2 * b) % 92],
                 w[1 + (a + 3 * b) % 92], w[1 + (a + 4 * b) % 92])
  FROM (SELECT tpch.colours() AS w, tpch.rint(seed, stream, k, 0, 91)::integer AS a,
               (2 * tpch.rint(seed, -stream, k, 0, 45) + 1)::integer AS b0) r,
       LATERAL (SELECT CASE WHEN b0 % 23 = 0 THEN b0 + 2 ELSE b0 END AS b) u
$$;

-- supplier_comment(pool, seed, stream, k, word): a supplier's comment;
-- word 'Complaints' or 'Recommends' puts "Customer ... <word>" in it.
CREATE OR REPLACE FUNCTION supplier_comment(pool bytea, seed integer, stream integer, k bigint,
                                            word text DEFAULT NULL)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN word IS NULL THEN tpch.random_text(pool, seed, stream, k, 25, 100)
            ELSE tpch.random_text(pool, seed, stream, k, 5, 30) || ' Customer '
                 || tpch.random_text(pool, seed, stream + 16384, k, 0, 25) || ' ' || word || ' '
                 || tpch.random_text(pool, seed, stream + 8192, k, 0, 20) END
$$;

-- The retail price of part k (the specification's formula).
CREATE OR REPLACE FUNCTION retail_price(partkey bigint) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT (90000 + ((partkey / 10) % 20001) + 100 * (partkey % 1000)) / 100.0
$$;

-- part_supplier(partkey, i, suppliers): the i-th (0 to 3) supplier of a
-- part.  Four distinct suppliers a quarter of the suppliers apart,
-- rotated by one for each block of parts as many as the suppliers.
CREATE OR REPLACE FUNCTION part_supplier(partkey bigint, i integer, suppliers integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT (((partkey - 1) + i * (suppliers / 4) + (partkey - 1) / suppliers) % suppliers + 1)::integer
$$;

-- order_key(n): the key of order number n (1, 2, ...): keys are sparse,
-- the first 8 of every 32.  order_number(key) is the inverse.
CREATE OR REPLACE FUNCTION order_key(n bigint) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT (((n - 1) / 8) * 32 + (n - 1) % 8 + 1)::integer
$$;
CREATE OR REPLACE FUNCTION order_number(orderkey bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT ((orderkey - 1) / 32) * 8 + (orderkey - 1) % 32 + 1
$$;

-- The random streams: one per column, keyed by the row's key (orders by
-- o_orderkey, lineitems by o_orderkey * 8 + l_linenumber, partsupp by
-- partkey * 4 + i).  Region and nation comments 11-12, supplier 200s,
-- customer 300s, part 400s, partsupp 500s, orders 600s, lineitem 700s;
-- refresh.sql uses the 800s and 900s.

-- add_orders(first_number, n, seed): orders number first_number to
-- first_number + n - 1 (tpch.order_key), with their lineitems, as
-- described at the top, over the parts, suppliers and customers of
-- tpch.generation.  Returns the lineitems inserted.
CREATE OR REPLACE FUNCTION add_orders(first_number bigint, n bigint, seed integer)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    g tpch.generation;
    pool bytea;
    lines bigint;
BEGIN
    SELECT * INTO STRICT g FROM tpch.generation;
    SELECT t.pool INTO STRICT pool FROM tpch.text_pool t;
    WITH o AS (
        SELECT k,
               (tpch.rint(seed, 601, k, 0, g.customers - g.customers / 3 - 1)) AS j,
               date '1992-01-01' + tpch.rint(seed, 602, k, 0, date '1998-08-02' - date '1992-01-01')::integer
                   AS orderdate,
               tpch.rint(seed, 603, k, 1, 7) AS nlines
          FROM (SELECT tpch.order_key(num) AS k
                  FROM generate_series(first_number, first_number + n - 1) num) keys
    ), l AS (
        SELECT o.k, ln, lk, partkey,
               tpch.part_supplier(partkey, tpch.rint(seed, 702, lk, 0, 3)::integer, g.suppliers) AS suppkey,
               quantity, quantity * tpch.retail_price(partkey) AS extendedprice,
               tpch.rint(seed, 704, lk, 0, 10) / 100.0 AS discount,
               tpch.rint(seed, 705, lk, 0, 8) / 100.0 AS tax,
               shipdate, o.orderdate + tpch.rint(seed, 706, lk, 30, 90)::integer AS commitdate,
               receiptdate,
               CASE WHEN receiptdate <= date '1995-06-17'
                    THEN CASE WHEN tpch.rnd(seed, 708, lk) < 0.5 THEN 'R' ELSE 'A' END
                    ELSE 'N' END AS returnflag,
               CASE WHEN shipdate > date '1995-06-17' THEN 'O' ELSE 'F' END AS linestatus
          FROM o,
               LATERAL generate_series(1, o.nlines) ln,
               LATERAL (SELECT o.k::bigint * 8 + ln AS lk) x,
               LATERAL (SELECT tpch.rint(seed, 701, lk, 1, g.parts) AS partkey,
                               tpch.rint(seed, 703, lk, 1, 50) AS quantity,
                               o.orderdate + tpch.rint(seed, 707, lk, 1, 121)::integer AS shipdate) y,
               LATERAL (SELECT y.shipdate + tpch.rint(seed, 709, lk, 1, 30)::integer AS receiptdate) z
    ), li AS (
        INSERT INTO tpch.lineitem
        SELECT k, partkey, suppkey, ln, quantity, extendedprice, discount, tax, returnflag, linestatus,
               shipdate, commitdate, receiptdate,
               tpch.pick(tpch.instructions(), seed, 710, lk), tpch.pick(tpch.ship_modes(), seed, 711, lk),
               tpch.random_text(pool, seed, 712, lk, 10, 43)
          FROM l
    ), t AS (
        SELECT k, round(sum(extendedprice * (1 + tax) * (1 - discount)), 2) AS totalprice,
               bool_and(linestatus = 'F') AS all_f, bool_and(linestatus = 'O') AS all_o, count(*) AS lines
          FROM l GROUP BY k
    )
    INSERT INTO tpch.orders
    SELECT o.k, o.j + o.j / 2 + 1,                  -- the j-th key that is not a multiple of 3
           CASE WHEN t.all_f THEN 'F' WHEN t.all_o THEN 'O' ELSE 'P' END,
           t.totalprice, o.orderdate, tpch.pick(tpch.priorities(), seed, 604, o.k),
           'Clerk#' || lpad(tpch.rint(seed, 605, o.k, 1, g.clerks)::text, 9, '0'), 0,
           tpch.random_text(pool, seed, 606, o.k, 19, 78)
      FROM o JOIN t USING (k);
    SELECT count(*) INTO lines FROM tpch.lineitem
     WHERE l_orderkey BETWEEN tpch.order_key(first_number) AND tpch.order_key(first_number + n - 1);
    RETURN lines;
END $$;

-- generate(scale_factor, seed): the whole database, from empty.  Returns
-- a line with the row counts.
CREATE OR REPLACE FUNCTION generate(scale_factor numeric, seed integer DEFAULT 1)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    g tpch.generation;
    pool bytea;
    lines bigint;
BEGIN
    g := ROW(scale_factor, seed, round(scale_factor * 10000), round(scale_factor * 150000),
             round(scale_factor * 200000), round(scale_factor * 1500000),
             greatest(1, round(scale_factor * 1000)));
    IF g.suppliers < 4 THEN
        RAISE EXCEPTION 'scale factor % is too small', scale_factor
            USING HINT = 'Every part needs four suppliers: the scale factor must be at least 0.0004.';
    END IF;
    TRUNCATE tpch.region, tpch.nation, tpch.supplier, tpch.customer, tpch.part, tpch.partsupp,
             tpch.orders, tpch.lineitem, tpch.generation, tpch.text_pool;
    INSERT INTO tpch.generation SELECT g.*;
    pool := tpch.make_text_pool(seed, 1048576);
    INSERT INTO tpch.text_pool VALUES (pool);

    INSERT INTO tpch.region
    SELECT r - 1, name, tpch.random_text(pool, seed, 11, r - 1, 31, 115)
      FROM unnest(ARRAY['AFRICA', 'AMERICA', 'ASIA', 'EUROPE', 'MIDDLE EAST']) WITH ORDINALITY AS x(name, r);
    INSERT INTO tpch.nation
    SELECT n - 1, name, region, tpch.random_text(pool, seed, 12, n - 1, 31, 114)
      FROM unnest(ARRAY['ALGERIA', 'ARGENTINA', 'BRAZIL', 'CANADA', 'EGYPT', 'ETHIOPIA', 'FRANCE',
                        'GERMANY', 'INDIA', 'INDONESIA', 'IRAN', 'IRAQ', 'JAPAN', 'JORDAN', 'KENYA',
                        'MOROCCO', 'MOZAMBIQUE', 'PERU', 'CHINA', 'ROMANIA', 'SAUDI ARABIA', 'VIETNAM',
                        'RUSSIA', 'UNITED KINGDOM', 'UNITED STATES'],
                  ARRAY[0, 1, 1, 1, 4, 0, 3, 3, 2, 2, 4, 4, 2, 4, 0, 0, 0, 1, 2, 3, 4, 2, 3, 3, 1])
           WITH ORDINALITY AS x(name, region, n);

    -- Suppliers: the first SF * 5 of a random order complain, the next as
    -- many recommend.
    INSERT INTO tpch.supplier
    SELECT k, 'Supplier#' || lpad(k::text, 9, '0'), tpch.vstring(seed, 201, k, 10, 40), nationkey,
           tpch.phone(nationkey, seed, 202, k), tpch.amount(seed, 203, k, -999.99, 9999.99),
           tpch.supplier_comment(pool, seed, 204, k,
                                 CASE WHEN r <= special THEN 'Complaints'
                                      WHEN r <= 2 * special THEN 'Recommends' END)
      FROM (SELECT k, tpch.rint(seed, 205, k, 0, 24)::integer AS nationkey,
                   row_number() OVER (ORDER BY tpch.rnd(seed, 206, k), k) AS r,
                   greatest(1, round(scale_factor * 5)) AS special
              FROM generate_series(1, g.suppliers) k) s;

    INSERT INTO tpch.customer
    SELECT k, 'Customer#' || lpad(k::text, 9, '0'), tpch.vstring(seed, 301, k, 10, 40), nationkey,
           tpch.phone(nationkey, seed, 302, k), tpch.amount(seed, 303, k, -999.99, 9999.99),
           tpch.pick(tpch.segments(), seed, 304, k), tpch.random_text(pool, seed, 305, k, 29, 116)
      FROM (SELECT k, tpch.rint(seed, 306, k, 0, 24)::integer AS nationkey
              FROM generate_series(1, g.customers) k) c;

    INSERT INTO tpch.part
    SELECT k, tpch.part_name(seed, 401, k), 'Manufacturer#' || m, 'Brand#' || m || tpch.rint(seed, 403, k, 1, 5),
           tpch.pick(ARRAY['STANDARD', 'SMALL', 'MEDIUM', 'LARGE', 'ECONOMY', 'PROMO'], seed, 404, k) || ' '
           || tpch.pick(ARRAY['ANODIZED', 'BURNISHED', 'PLATED', 'POLISHED', 'BRUSHED'], seed, 405, k) || ' '
           || tpch.pick(ARRAY['TIN', 'NICKEL', 'BRASS', 'STEEL', 'COPPER'], seed, 406, k),
           tpch.rint(seed, 407, k, 1, 50),
           tpch.pick(ARRAY['SM', 'LG', 'MED', 'JUMBO', 'WRAP'], seed, 408, k) || ' '
           || tpch.pick(ARRAY['CASE', 'BOX', 'BAG', 'JAR', 'PKG', 'PACK', 'CAN', 'DRUM'], seed, 409, k),
           tpch.retail_price(k), tpch.random_text(pool, seed, 410, k, 5, 22)
      FROM (SELECT k, tpch.rint(seed, 402, k, 1, 5) AS m FROM generate_series(1, g.parts) k) p;

    INSERT INTO tpch.partsupp
    SELECT p, tpch.part_supplier(p, i, g.suppliers), tpch.rint(seed, 501, p * 4 + i, 1, 9999),
           tpch.amount(seed, 502, p * 4 + i, 1, 1000), tpch.random_text(pool, seed, 503, p * 4 + i, 49, 198)
      FROM generate_series(1, g.parts) p, generate_series(0, 3) i;

    lines := tpch.add_orders(1, g.orders, seed);
    RETURN format('scale factor %s, seed %s: %s suppliers, %s customers, %s parts, %s partsupp, %s orders, %s lineitems',
                  scale_factor, seed, g.suppliers, g.customers, g.parts, 4 * g.parts, g.orders, lines);
END $$;

RESET search_path;
