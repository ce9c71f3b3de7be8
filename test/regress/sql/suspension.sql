-- Suspension releases a dynamic table's position in the change logs: a
-- suspended dynamic table, here one whose owner may only read another
-- role's table, does not keep that table's change log from being emptied
-- by the owner's refreshes.  Its next refresh after it is resumed is full,
-- and says why; the ones after it are incremental again.  Each compared
-- with the defining query.  The reason of a suspension goes into a dump
-- with the state.

CREATE ROLE regress_dt_sus_owner;
CREATE ROLE regress_dt_sus_reader;
CREATE SCHEMA dt_sus;
GRANT USAGE, CREATE ON SCHEMA dt_sus TO regress_dt_sus_owner, regress_dt_sus_reader;
GRANT USAGE ON SCHEMA dt TO regress_dt_sus_owner, regress_dt_sus_reader;
GRANT USAGE ON SCHEMA dt_test TO regress_dt_sus_owner, regress_dt_sus_reader;
SET search_path = dt_sus, public;

-- The rows of a table's change log.
CREATE FUNCTION log_rows(rel regclass) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM dt_internal.changes_%s', rel::oid) INTO n;
    RETURN n;
END
$$;
-- The action and message of the last refresh of a dynamic table.
CREATE FUNCTION last_refresh(rel regclass) RETURNS text LANGUAGE sql AS $$
SELECT refresh_action || coalesce(': ' || state_message, '') FROM dt.refresh_history
 WHERE relid = rel ORDER BY refresh_id DESC LIMIT 1
$$;

SET ROLE regress_dt_sus_owner;
CREATE TABLE events (id int PRIMARY KEY, kind text, amount numeric);
INSERT INTO events SELECT i, 'k' || i % 4, i FROM generate_series(1, 40) i;
GRANT SELECT ON events TO regress_dt_sus_reader;
SELECT dt.create_dynamic_table('by_kind',
    'SELECT kind, count(*) AS n, sum(amount) AS total FROM events GROUP BY kind',
    refresh_mode => 'incremental');
SET ROLE regress_dt_sus_reader;
SELECT dt.create_dynamic_table('reader_totals',
    'SELECT kind, sum(amount) AS total FROM events GROUP BY kind', refresh_mode => 'incremental');
SELECT dt.suspend('reader_totals');
SELECT scheduling_state, scheduling_state_reason FROM dt.dynamic_tables WHERE relid = 'reader_totals'::regclass;
-- dt_guard carries the state and its reason into a dump.
SELECT (string_to_array(encode(tgargs, 'escape'), '\000'))[6:7] FROM pg_trigger
 WHERE tgrelid = 'reader_totals'::regclass AND tgname = 'dt_guard';

-- The owner writes and refreshes: the log is emptied.
SET ROLE regress_dt_sus_owner;
INSERT INTO events VALUES (41, 'k1', 10), (42, 'k9', 20);
UPDATE events SET amount = amount + 1 WHERE id % 5 = 0;
DELETE FROM events WHERE id = 3;
SELECT action FROM dt.refresh('by_kind');
RESET ROLE;
SELECT log_rows('events');
SELECT dt_test.check('by_kind');

-- Resumed, the reader's table refreshes in full, saying why, then
-- incrementally.
SET ROLE regress_dt_sus_reader;
SELECT dt.resume('reader_totals');
SELECT action FROM dt.refresh('reader_totals');
SELECT last_refresh('reader_totals');
SELECT dt_test.check('reader_totals');
SET ROLE regress_dt_sus_owner;
INSERT INTO events VALUES (43, 'k2', 5);
DELETE FROM events WHERE id = 4;
SET ROLE regress_dt_sus_reader;
SELECT action FROM dt.refresh('reader_totals');
SELECT dt_test.check('reader_totals');

-- A suspended table refreshed by hand stays without a position: the next
-- refresh is full again.
SELECT dt.suspend('reader_totals');
SELECT action FROM dt.refresh('reader_totals');
SET ROLE regress_dt_sus_owner;
INSERT INTO events VALUES (44, 'k3', 6);
SELECT action FROM dt.refresh('by_kind');
RESET ROLE;
SELECT log_rows('events');
-- With no reader left holding a position (both suspended, one refreshed
-- by hand), nothing in the log is needed: it is emptied.
SET ROLE regress_dt_sus_owner;
SELECT dt.suspend('by_kind');
INSERT INTO events VALUES (45, 'k1', 7);
SELECT action FROM dt.refresh('by_kind');
RESET ROLE;
SELECT log_rows('events');
SET ROLE regress_dt_sus_owner;
SELECT dt.resume('by_kind');
SELECT action FROM dt.refresh('by_kind');
SET ROLE regress_dt_sus_reader;
SELECT dt.resume('reader_totals');
SELECT action FROM dt.refresh('reader_totals');
SELECT last_refresh('reader_totals');
SELECT dt_test.check('reader_totals');
RESET ROLE;
SELECT dt_test.check('by_kind');

RESET ROLE;
RESET search_path;
DROP SCHEMA dt_sus CASCADE;
DROP OWNED BY regress_dt_sus_owner, regress_dt_sus_reader;
DROP ROLE regress_dt_sus_owner, regress_dt_sus_reader;
