-- Privileges: a dynamic table belongs to its creator, who must be able to
-- read its inputs; only the owner refreshes or drops it; a dynamic table
-- that changes the capture of a table (the first over it installs
-- triggers, one reading columns not captured yet adds them) needs the
-- TRIGGER privilege on it (or ownership), others only SELECT, and never
-- block the table's writers; a refresh runs as the owner, so one whose
-- owner lost SELECT on an input fails.

CREATE ROLE regress_dt_alice;
CREATE ROLE regress_dt_bob;
CREATE ROLE regress_dt_carol;
CREATE SCHEMA dt_priv;
GRANT USAGE, CREATE ON SCHEMA dt_priv TO regress_dt_alice, regress_dt_bob, regress_dt_carol;
-- The extension's functions and views are in schema dt.
GRANT USAGE ON SCHEMA dt TO regress_dt_alice, regress_dt_bob, regress_dt_carol;
SET search_path = dt_priv, public;

-- Helpers of test/helpers.sql, in schema dt_test: dt_test.fails(sql) runs a
-- statement that must fail and shows its SQLSTATE and message;
-- dt_test.create_fails(name, query, with_detail => false) also shows what a
-- failed dt.create_dynamic_table left behind (the message here without its
-- DETAIL).  bob and carol call them.
GRANT USAGE ON SCHEMA dt_test TO regress_dt_bob, regress_dt_carol;

-- ---------------------------------------------------------------------
-- A role that owns its table creates dynamic tables over it, refreshes
-- them and reads their history.
-- ---------------------------------------------------------------------
SET ROLE regress_dt_alice;
CREATE TABLE orders (id int PRIMARY KEY, customer text, amount numeric);
INSERT INTO orders SELECT g, 'c' || g % 5, g FROM generate_series(1, 50) g;
SELECT dt.create_dynamic_table('by_customer',
    'SELECT customer, count(*) AS n, sum(amount) AS total FROM orders GROUP BY customer',
    refresh_mode => 'incremental');
SELECT dt.create_dynamic_table('big_orders', 'SELECT id, customer, amount FROM orders WHERE amount > 40');
INSERT INTO orders VALUES (51, 'c1', 100), (52, 'c9', 7);
UPDATE orders SET customer = 'c2' WHERE id % 7 = 0;
DELETE FROM orders WHERE id = 45;
SELECT action FROM dt.refresh('by_customer');
SELECT action FROM dt.refresh('big_orders');
SELECT name, refresh_action, refresh_trigger, state FROM dt.refresh_history
 WHERE name IN ('dt_priv.by_customer', 'dt_priv.big_orders') ORDER BY refresh_id;
GRANT SELECT ON orders, by_customer TO regress_dt_bob;
RESET ROLE;
SELECT c.relname, c.relowner::regrole FROM pg_class c
 WHERE c.oid IN ('by_customer'::regclass, 'big_orders'::regclass) ORDER BY 1;
SELECT dt_test.check('by_customer'), dt_test.check('big_orders');
-- A superuser may refresh it too; the refresh runs as its owner.
INSERT INTO orders VALUES (53, 'c3', 3);
SELECT action FROM dt.refresh('by_customer');
SELECT dt_test.check('by_customer');

-- ---------------------------------------------------------------------
-- Another role may read what it was granted, but neither refresh, drop,
-- alter nor write the dynamic tables of alice.
-- ---------------------------------------------------------------------
SET ROLE regress_dt_bob;
SELECT count(*) > 0 AS bob_reads_it FROM by_customer;
SELECT * FROM dt_test.fails($$SELECT dt.refresh('by_customer')$$);
SELECT * FROM dt_test.fails($$SELECT dt.refresh('big_orders')$$);
SELECT * FROM dt_test.fails($$SELECT dt.drop_dynamic_table('by_customer')$$);
SELECT * FROM dt_test.fails($$SELECT dt.drop_dynamic_table('big_orders')$$);
SELECT * FROM dt_test.fails($$DROP TABLE by_customer$$);
SELECT * FROM dt_test.fails($$ALTER TABLE by_customer SET (fillfactor = 50)$$);
SELECT * FROM dt_test.fails($$ALTER TABLE by_customer RENAME TO mine$$);
SELECT * FROM dt_test.fails($$INSERT INTO by_customer VALUES ('x', 1, 1)$$);
SELECT * FROM dt_test.fails($$TRUNCATE by_customer$$);
SELECT * FROM dt_test.fails($$SELECT * FROM big_orders$$);
RESET ROLE;
SELECT name FROM dt.dynamic_tables WHERE schema_name = 'dt_priv' ORDER BY table_name;
SELECT dt_test.check('by_customer'), dt_test.check('big_orders');

-- Nor may a role without privileges read alice's data through the
-- internal objects: the change log of orders, the state of by_customer.
SELECT 'dt_internal.changes_' || 'orders'::regclass::oid AS orders_log,
       'dt_internal.state_' || 'by_customer'::regclass::oid AS by_customer_state \gset
SET ROLE regress_dt_carol;
SELECT * FROM dt_test.fails(format('SELECT * FROM %s', :'orders_log'));
SELECT * FROM dt_test.fails(format('SELECT * FROM %s', :'by_customer_state'));
-- Without SELECT on orders, no dynamic table over it.
SELECT * FROM dt_test.create_fails('carol_orders', 'SELECT customer, count(*) AS n FROM orders GROUP BY customer', with_detail => false);
-- Nor in a schema where she may not create tables.
SELECT * FROM dt_test.create_fails('public.carol_dt', 'SELECT 1 AS x', with_detail => false);
RESET ROLE;

-- ---------------------------------------------------------------------
-- The first dynamic table over a table installs its capture triggers,
-- and one that reads columns not captured yet adds them: both change the
-- table's capture, which takes the TRIGGER privilege (or being the owner).
-- Once what it needs is captured, SELECT is enough.
-- ---------------------------------------------------------------------
SET ROLE regress_dt_alice;
CREATE TABLE customers (name text, city text);
INSERT INTO customers VALUES ('c1', 'x'), ('c2', 'y'), ('c3', 'x');
GRANT SELECT ON customers TO regress_dt_bob;
RESET ROLE;
SET ROLE regress_dt_bob;
SELECT * FROM dt_test.create_fails('bob_cities', 'SELECT name, city FROM customers WHERE city <> ''z''', with_detail => false);
SELECT dt.create_dynamic_table('bob_cities', 'SELECT name, city FROM customers WHERE city <> ''z''');
RESET ROLE;
SELECT count(*) AS customers_triggers FROM pg_trigger WHERE tgrelid = 'customers'::regclass;
-- The owner creates the first one, which captures city ...
SET ROLE regress_dt_alice;
SELECT dt.create_dynamic_table('city_counts', 'SELECT city, count(*) AS n FROM customers GROUP BY city');
RESET ROLE;
-- ... which is not enough for bob's, which reads name too ...
SET ROLE regress_dt_bob;
SELECT dt.create_dynamic_table('bob_cities', 'SELECT name, city FROM customers WHERE city <> ''z''');
RESET ROLE;
-- ... until one of the owner's reads name ...
SET ROLE regress_dt_alice;
SELECT dt.create_dynamic_table('name_counts', 'SELECT name, count(*) AS n FROM customers GROUP BY name');
RESET ROLE;
-- ... and then SELECT is enough.
SET ROLE regress_dt_bob;
SELECT dt.create_dynamic_table('bob_cities', 'SELECT name, city FROM customers WHERE city <> ''z''');
SELECT dt.create_dynamic_table('bob_orders', 'SELECT customer, max(amount) AS top FROM orders GROUP BY customer');
RESET ROLE;
SET ROLE regress_dt_alice;
INSERT INTO customers VALUES ('c4', 'w');
UPDATE orders SET amount = amount + 1000 WHERE id = 1;
RESET ROLE;
SET ROLE regress_dt_bob;
SELECT action FROM dt.refresh('bob_cities');
SELECT action FROM dt.refresh('bob_orders');
RESET ROLE;
SELECT dt_test.check('bob_cities'), dt_test.check('bob_orders');

-- With the TRIGGER privilege a role that does not own the table creates
-- the first dynamic table over it.
SET ROLE regress_dt_alice;
CREATE TABLE products (sku text, price numeric);
INSERT INTO products VALUES ('a', 1), ('b', 2);
GRANT SELECT, TRIGGER ON products TO regress_dt_carol;
RESET ROLE;
SET ROLE regress_dt_carol;
SELECT dt.create_dynamic_table('carol_prices', 'SELECT count(*) AS n, sum(price) AS total FROM products',
                               refresh_mode => 'incremental');
RESET ROLE;
SELECT count(*) AS products_triggers FROM pg_trigger WHERE tgrelid = 'products'::regclass;
SET ROLE regress_dt_alice;
INSERT INTO products VALUES ('c', 3);
RESET ROLE;
SET ROLE regress_dt_carol;
SELECT action FROM dt.refresh('carol_prices');
RESET ROLE;
SELECT dt_test.check('carol_prices');

-- ---------------------------------------------------------------------
-- The owner of a dynamic table loses SELECT on its input: the next
-- refresh that reads the input fails, whoever calls it.
-- ---------------------------------------------------------------------
SET ROLE regress_dt_alice;
REVOKE SELECT ON customers FROM regress_dt_bob;
INSERT INTO customers VALUES ('c5', 'x');
RESET ROLE;
\set VERBOSITY terse
SET ROLE regress_dt_bob;
SELECT action FROM dt.refresh('bob_cities');
RESET ROLE;
SELECT action FROM dt.refresh('bob_cities');
\set VERBOSITY default
-- (the scheduler writes the failures to the history once they rolled back)
SELECT dt_test.wait_for_failures('bob_cities', 2);
SELECT name, refresh_action, state FROM dt.refresh_history
 WHERE name = 'dt_priv.bob_cities' ORDER BY refresh_id;
-- Its other dynamic table, over orders, is still refreshed.
SET ROLE regress_dt_bob;
SELECT action FROM dt.refresh('bob_orders');
RESET ROLE;

-- ---------------------------------------------------------------------
-- Incremental refreshes read the change log through
-- dt_internal.read_changes, which checks at every call that the caller
-- (the owner of the dynamic table) may read those columns of the input.
-- Nobody may read the change logs directly, not even the owners of the
-- dynamic tables fed from them.
-- ---------------------------------------------------------------------
SELECT refresh_mode FROM dt.dynamic_tables WHERE relid = 'bob_orders'::regclass;
-- Guards: the owner of a dynamic table over orders cannot read its log.
SET ROLE regress_dt_bob;
SELECT * FROM dt_test.fails(format('SELECT * FROM %s', :'orders_log'));
RESET ROLE;
-- Guards: an INCREMENTAL refresh whose owner lost SELECT on the input
-- fails, whoever calls it; with the privilege back it goes on from where
-- it was.
SET ROLE regress_dt_alice;
INSERT INTO orders VALUES (60, 'c4', 60), (61, 'c8', 61);
DELETE FROM orders WHERE id = 2;
REVOKE SELECT ON orders FROM regress_dt_bob;
RESET ROLE;
SET ROLE regress_dt_bob;
SELECT * FROM dt_test.fails($$SELECT dt.refresh('bob_orders')$$);
RESET ROLE;
SELECT * FROM dt_test.fails($$SELECT dt.refresh('bob_orders')$$);
SET ROLE regress_dt_alice;
GRANT SELECT ON orders TO regress_dt_bob;
RESET ROLE;
SET ROLE regress_dt_bob;
SELECT action FROM dt.refresh('bob_orders');
RESET ROLE;
SELECT dt_test.check('bob_orders');

-- Column privileges: carol may read customer and amount of orders, not id.
SET ROLE regress_dt_alice;
GRANT SELECT (customer, amount) ON orders TO regress_dt_carol;
RESET ROLE;
SET ROLE regress_dt_carol;
-- Guards: dt_internal.read_changes called directly, not by a refresh, is
-- refused (hostile_calls.sql calls it in every other way).
SELECT * FROM dt_test.fails($$SELECT * FROM dt_internal.read_changes('customers', pg_current_snapshot(), '0', 0, '{}')
                        AS c(sign smallint)$$);
SELECT * FROM dt_test.fails($$SELECT * FROM dt_internal.read_changes('orders', pg_current_snapshot(), '0', 0, '{1}')
                        AS c(sign smallint, id int)$$);
-- Guards: a dynamic table over the columns she may read is created and
-- refreshed incrementally; one over another column is refused.
SELECT dt.create_dynamic_table('carol_orders',
    'SELECT customer, count(*) AS n, sum(amount) AS total, max(amount) AS top FROM orders GROUP BY customer',
    refresh_mode => 'incremental');
SELECT * FROM dt_test.create_fails('carol_ids', 'SELECT customer, max(id) AS last_id FROM orders GROUP BY customer', with_detail => false);
RESET ROLE;
SET ROLE regress_dt_alice;
INSERT INTO orders VALUES (62, 'c1', 62), (63, 'c9', 63);
UPDATE orders SET amount = amount * 2 WHERE id % 6 = 0;
UPDATE orders SET id = id + 1000 WHERE id = 62;
DELETE FROM orders WHERE id = 3;
RESET ROLE;
SET ROLE regress_dt_carol;
SELECT action FROM dt.refresh('carol_orders');
RESET ROLE;
SELECT dt_test.check('carol_orders');

-- ---------------------------------------------------------------------
-- A role that may only read a table cannot block its writers: a dynamic
-- table of bob's over what alice's dynamic tables capture takes no lock on
-- alice's table beyond what reading it takes, nor one that blocks writers
-- on its change log; one that would extend the capture fails at once; and
-- dropping his, even as the last reader of some column, leaves releasing
-- the capture to the scheduler, whose transaction takes no lock it would
-- have to wait for.  (test/isolation/specs/capture_privileges.spec shows
-- the writers going on.)
-- ---------------------------------------------------------------------
-- The locks this session holds on a relation.
CREATE FUNCTION my_locks(rel regclass) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(mode, ', ' ORDER BY mode), 'none') FROM pg_locks
     WHERE locktype = 'relation' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND relation = rel AND pid = pg_backend_pid() AND granted
$$;
GRANT EXECUTE ON FUNCTION my_locks(regclass) TO PUBLIC;
-- Wait (up to 30 seconds) until the change log of rel records columns.
CREATE FUNCTION wait_for_log_columns(rel regclass, columns text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    now_recorded text;
BEGIN
    FOR i IN 1 .. 300 LOOP
        SELECT string_agg(attname, ',' ORDER BY attname) INTO now_recorded FROM pg_attribute
         WHERE attrelid = ('dt_internal.changes_' || rel::oid)::regclass AND attnum > 3 AND NOT attisdropped;
        EXIT WHEN now_recorded IS NOT DISTINCT FROM columns;
        PERFORM pg_sleep(0.1);
    END LOOP;
    RETURN coalesce(now_recorded, '');
END
$$;

SET ROLE regress_dt_alice;
CREATE TABLE events (id int PRIMARY KEY, kind text, amount int, note text);
INSERT INTO events SELECT g, 'k' || g % 3, g, 'n' || g FROM generate_series(1, 30) g;
GRANT SELECT ON events TO regress_dt_bob;
SELECT dt.create_dynamic_table('event_kinds', 'SELECT kind, count(*) AS n FROM events GROUP BY kind');
SELECT dt.create_dynamic_table('event_notes', 'SELECT id, note FROM events');
RESET ROLE;
SELECT 'dt_internal.changes_' || 'events'::regclass::oid AS events_log \gset
SELECT wait_for_log_columns('events', 'a1,a2,a4') AS events_log_records;
SET ROLE regress_dt_bob;
BEGIN;
SELECT dt.create_dynamic_table('bob_kinds', 'SELECT kind, count(*) AS n FROM events WHERE note <> ''x'' GROUP BY kind');
-- Guards: AccessShareLock on events (reading it); on its log none that
-- blocks writers (ShareUpdateExclusiveLock, against a concurrent release
-- of what it needs; RowExclusiveLock too when it deletes changes every
-- reader consumed, here none: the log is empty).
SELECT my_locks('events') AS on_events, my_locks(:'events_log') AS on_log;
COMMIT;
-- Guards: the columns of a join count where they are used: a LEFT JOIN of
-- events reads neither amount (not captured) nor note of its right side.
SELECT dt.create_dynamic_table('bob_pairs', 'SELECT e.kind, count(f.id) AS n FROM events e
                                              LEFT JOIN events f ON f.id = e.id + 1 GROUP BY e.kind');
DROP TABLE bob_pairs;
-- Guards: a column not captured yet: refused, before any lock is taken.
BEGIN;
SELECT dt.create_dynamic_table('bob_amounts', 'SELECT kind, sum(amount) AS total FROM events GROUP BY kind');
ROLLBACK;
RESET ROLE;
-- The owner may extend the capture; creating hers holds the lock that
-- waits for writers (as CREATE TRIGGER does) until she commits.
SET ROLE regress_dt_alice;
BEGIN;
SELECT dt.create_dynamic_table('event_amounts', 'SELECT kind, sum(amount) AS total FROM events GROUP BY kind');
SELECT my_locks('events') AS on_events;
COMMIT;
RESET ROLE;
SELECT wait_for_log_columns('events', 'a1,a2,a3,a4') AS events_log_records;
-- bob's dynamic table is the last one reading note once alice drops hers
-- (which releases id at once: she may change the capture).
SET ROLE regress_dt_alice;
SELECT dt.drop_dynamic_table('event_notes');
RESET ROLE;
SELECT wait_for_log_columns('events', 'a2,a3,a4') AS events_log_records;
SET ROLE regress_dt_bob;
BEGIN;
DROP TABLE bob_kinds;
-- Guards: dropping it takes no lock on events, nor on its log beyond
-- what reading takes: a4 stays captured for now.
SELECT my_locks('events') AS on_events, my_locks(:'events_log') AS on_log;
COMMIT;
RESET ROLE;
-- The scheduler releases it.
SELECT wait_for_log_columns('events', 'a2,a3') AS events_log_records;
INSERT INTO events VALUES (100, 'k1', 100, 'n100');
SET ROLE regress_dt_alice;
SELECT action FROM dt.refresh('event_kinds');
SELECT action FROM dt.refresh('event_amounts');
RESET ROLE;
SELECT dt_test.check('event_kinds'), dt_test.check('event_amounts');

-- Partitions: TRIGGER on the partitioned table is enough to capture it,
-- partitions included, as for a trigger cloned to them; SELECT on it is
-- enough for a dynamic table over what is captured.
SET ROLE regress_dt_alice;
CREATE TABLE pevents (id int, region text, amount int) PARTITION BY LIST (region);
CREATE TABLE pevents_eu PARTITION OF pevents FOR VALUES IN ('eu');
CREATE TABLE pevents_us PARTITION OF pevents FOR VALUES IN ('us');
INSERT INTO pevents SELECT g, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END, g FROM generate_series(1, 10) g;
GRANT SELECT, TRIGGER ON pevents TO regress_dt_carol;
GRANT SELECT ON pevents TO regress_dt_bob;
RESET ROLE;
SET ROLE regress_dt_bob;
SELECT * FROM dt_test.create_fails('bob_regions', 'SELECT region, count(*) AS n FROM pevents GROUP BY region', with_detail => false);
RESET ROLE;
SET ROLE regress_dt_carol;
SELECT dt.create_dynamic_table('carol_regions', 'SELECT region, count(*) AS n, sum(amount) AS total FROM pevents GROUP BY region');
RESET ROLE;
SELECT c.relname, count(t.tgname) AS capture_triggers FROM pg_class c
  LEFT JOIN pg_trigger t ON t.tgrelid = c.oid AND t.tgname LIKE 'dt\_capture\_%'
 WHERE c.relname LIKE 'pevents%' GROUP BY c.relname ORDER BY 1;
SET ROLE regress_dt_bob;
SELECT dt.create_dynamic_table('bob_regions', 'SELECT region, count(*) AS n FROM pevents GROUP BY region');
SELECT * FROM dt_test.create_fails('bob_ids', 'SELECT region, max(id) AS top FROM pevents GROUP BY region', with_detail => false);
RESET ROLE;
SET ROLE regress_dt_alice;
INSERT INTO pevents_eu VALUES (11, 'eu', 11);
UPDATE pevents SET amount = amount + 1 WHERE id < 4;
RESET ROLE;
SET ROLE regress_dt_bob;
SELECT action FROM dt.refresh('bob_regions');
RESET ROLE;
SET ROLE regress_dt_carol;
SELECT action FROM dt.refresh('carol_regions');
RESET ROLE;
SELECT dt_test.check('bob_regions'), dt_test.check('carol_regions');

-- ---------------------------------------------------------------------
-- Owners drop their own dynamic tables.
-- ---------------------------------------------------------------------
SET ROLE regress_dt_bob;
SELECT dt.drop_dynamic_table('bob_cities');
DROP TABLE bob_orders;
RESET ROLE;
SET ROLE regress_dt_carol;
SET client_min_messages = warning;
SELECT dt.drop_dynamic_table('carol_prices');
SELECT dt.drop_dynamic_table('carol_orders');
SELECT dt.drop_dynamic_table('carol_regions');
RESET client_min_messages;
RESET ROLE;
SELECT count(*) AS products_triggers FROM pg_trigger WHERE tgrelid = 'products'::regclass;
SELECT name, relowner::regrole AS owner FROM dt.dynamic_tables d JOIN pg_class c ON c.oid = d.relid
 WHERE schema_name = 'dt_priv' ORDER BY table_name;

-- ---------------------------------------------------------------------
-- A table with row-level security, read through a view of another role:
-- the view's owner is whom its policies see, but the query is kept with
-- the view expanded and run as the dynamic table's owner; bob's table
-- over alice's view held his one row where the view shows him three.
-- Refused; a security_invoker view applies bob's policies either way.
-- ---------------------------------------------------------------------
SET ROLE regress_dt_alice;
CREATE TABLE rl (id int PRIMARY KEY, owner text, val int);
INSERT INTO rl VALUES (1, 'regress_dt_bob', 10), (2, 'regress_dt_alice', 20), (3, 'nobody', 30);
ALTER TABLE rl ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON rl USING (owner = current_user);
CREATE VIEW rlv AS SELECT id, owner, val FROM rl;
CREATE VIEW rlv_invoker WITH (security_invoker) AS SELECT id, val FROM rl;
GRANT SELECT ON rl, rlv, rlv_invoker TO regress_dt_bob;
SELECT dt.create_dynamic_table('alice_rlv', 'SELECT id, val FROM rlv WHERE owner IS NOT NULL');
RESET ROLE;
SET ROLE regress_dt_bob;
SELECT count(*) AS rlv_rows FROM rlv;
SELECT * FROM dt_test.create_fails('bob_rlv', 'SELECT id, val FROM rlv');
SELECT dt.create_dynamic_table('bob_rlv_invoker', 'SELECT id, val FROM rlv_invoker');
SELECT id, val FROM bob_rlv_invoker;
SELECT dt_test.check('bob_rlv_invoker');
RESET ROLE;
-- neither a superuser nor alice, who owns rl, is subject to its policies
SELECT dt.create_dynamic_table('super_rlv', 'SELECT id, val FROM rlv');
SELECT count(*) AS super_rlv_rows FROM super_rlv;
SELECT dt_test.check('super_rlv');

-- Row-level security enabled on the table after bob's dynamic tables were
-- made over alice's view: each refresh checks again, and fails with the
-- hint rather than apply bob's policies (his two rows where the view shows
-- four); once the policies go, the refreshes catch up.
SET ROLE regress_dt_alice;
CREATE TABLE rl_late (id int PRIMARY KEY, owner text, val int);
INSERT INTO rl_late VALUES (1, 'regress_dt_bob', 10), (2, 'regress_dt_alice', 20), (3, 'nobody', 30);
CREATE VIEW rlv_late AS SELECT id, owner, val FROM rl_late;
GRANT SELECT, TRIGGER ON rl_late TO regress_dt_bob;
GRANT SELECT ON rlv_late TO regress_dt_bob;
RESET ROLE;
SET ROLE regress_dt_bob;
SELECT dt.create_dynamic_table('bob_rlv_late', 'SELECT id, val FROM rlv_late');
SELECT dt.create_dynamic_table('bob_rlv_late_sums',
    'SELECT owner, sum(val) AS total, count(*) AS n FROM rlv_late GROUP BY owner', refresh_mode => 'incremental');
RESET ROLE;
SET ROLE regress_dt_alice;
ALTER TABLE rl_late ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON rl_late USING (owner = current_user);
INSERT INTO rl_late VALUES (4, 'regress_dt_bob', 40);
RESET ROLE;
SET ROLE regress_dt_bob;
SELECT count(*) AS rlv_late_rows FROM rlv_late;
SELECT action FROM dt.refresh('bob_rlv_late');
SELECT action FROM dt.refresh('bob_rlv_late_sums');
SELECT count(*) AS bob_rlv_late_rows FROM bob_rlv_late;
RESET ROLE;
SELECT dt_test.wait_for_failures('bob_rlv_late', 1);
SELECT dt_test.wait_for_failures('bob_rlv_late_sums', 1);
SELECT name, state, state_message FROM dt.refresh_history
 WHERE name LIKE 'dt_priv.bob_rlv_late%' AND state <> 'SUCCEEDED' ORDER BY refresh_id;
SET ROLE regress_dt_alice;
DROP POLICY own_rows ON rl_late;
ALTER TABLE rl_late DISABLE ROW LEVEL SECURITY;
RESET ROLE;
SET ROLE regress_dt_bob;
SELECT action FROM dt.refresh('bob_rlv_late');
SELECT action FROM dt.refresh('bob_rlv_late_sums');
RESET ROLE;
SELECT dt_test.check('bob_rlv_late');
SELECT dt_test.check('bob_rlv_late_sums');

-- ---------------------------------------------------------------------
-- The error of a refresh names the dynamic table being refreshed: a
-- superuser's refresh of a table refreshes alice's upstream too, as
-- alice, who can no longer reach its schema (in a new session, which
-- prepares her table's statements again).
-- ---------------------------------------------------------------------
CREATE SCHEMA dt_priv_up;
GRANT USAGE, CREATE ON SCHEMA dt_priv_up TO regress_dt_alice;
SET ROLE regress_dt_alice;
CREATE TABLE dt_priv_up.ups (k int, v int);
INSERT INTO dt_priv_up.ups VALUES (1, 1), (2, 2);
SELECT dt.create_dynamic_table('dt_priv_up.up_sums', 'SELECT k, sum(v) AS v FROM dt_priv_up.ups GROUP BY k');
RESET ROLE;
SELECT dt.create_dynamic_table('dt_priv_up.up_total', 'SELECT sum(v) AS v FROM dt_priv_up.up_sums');
REVOKE USAGE, CREATE ON SCHEMA dt_priv_up FROM regress_dt_alice;
INSERT INTO dt_priv_up.ups VALUES (3, 3);
\c
SET search_path = dt_priv, public;
SELECT action FROM dt.refresh('dt_priv_up.up_total');
GRANT USAGE ON SCHEMA dt_priv_up TO regress_dt_alice;
SELECT action FROM dt.refresh('dt_priv_up.up_total');
SELECT dt_test.check('dt_priv_up.up_total');

SET client_min_messages = warning;
DROP SCHEMA dt_priv, dt_priv_up CASCADE;
RESET client_min_messages;
REVOKE USAGE ON SCHEMA dt FROM regress_dt_alice, regress_dt_bob, regress_dt_carol;
REVOKE USAGE ON SCHEMA dt_test FROM regress_dt_bob, regress_dt_carol;
DROP ROLE regress_dt_alice;
DROP ROLE regress_dt_bob;
DROP ROLE regress_dt_carol;
