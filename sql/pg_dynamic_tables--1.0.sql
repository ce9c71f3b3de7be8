/*
 * pg_dynamic_tables 1.0
 *
 * Schema dt holds what users call and read; schema dt_internal holds the
 * catalog, the change logs and the per-table state, all written only by
 * the extension's own code (see src/README.md).
 */
\echo Use "CREATE EXTENSION pg_dynamic_tables" to load this file. \quit

GRANT USAGE ON SCHEMA dt TO PUBLIC;

CREATE SCHEMA dt_internal;
COMMENT ON SCHEMA dt_internal IS 'pg_dynamic_tables internals: catalog, change logs, per-table state';
-- The owners of dynamic tables refresh them through their state tables here.
GRANT USAGE ON SCHEMA dt_internal TO PUBLIC;

CREATE FUNCTION dt_internal.check_preloaded() RETURNS void
    LANGUAGE C SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'dt_check_preloaded';
REVOKE ALL ON FUNCTION dt_internal.check_preloaded() FROM PUBLIC;
SELECT dt_internal.check_preloaded();

-- ---------------------------------------------------------------------
-- Catalog
-- ---------------------------------------------------------------------

CREATE TABLE dt_internal.dynamic_table (
    relid               oid PRIMARY KEY,
    query_text          text NOT NULL,
    query_tree          text NOT NULL,      -- analysed Query, nodeToString
    target_lag          interval,           -- NULL: DOWNSTREAM
    requested_mode      text NOT NULL,      -- AUTO, INCREMENTAL or FULL
    refresh_mode        text NOT NULL,      -- INCREMENTAL or FULL
    refresh_mode_reason text,
    settings            text[] NOT NULL,    -- pinned for refreshes
    populated           boolean NOT NULL DEFAULT false,
    data_timestamp      timestamptz,
    -- position: the changes the last refresh consumed (see capture.c)
    position_snapshot   pg_snapshot,
    position_xid        xid8,
    position_cid        integer,
    -- scheduling
    scheduling_state    text NOT NULL DEFAULT 'ACTIVE',     -- ACTIVE or SUSPENDED
    suspend_reason      text,
    suspended_by        oid,                -- the suspended input that caused it
    consecutive_failures integer NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL DEFAULT pg_catalog.now()
) WITH (fillfactor = 50);

CREATE TABLE dt_internal.dynamic_table_input (
    relid       oid NOT NULL REFERENCES dt_internal.dynamic_table ON DELETE CASCADE,
    input_relid oid NOT NULL,
    columns     smallint[] NOT NULL,    -- the input columns it uses
    PRIMARY KEY (relid, input_relid)
);
CREATE INDEX ON dt_internal.dynamic_table_input (input_relid);

-- The dynamic tables whose per-group state is intact.  The state and its
-- auxiliary tables are unlogged (they cost no WAL); a crash empties them
-- and this table together, and the next refresh rebuilds them.
CREATE UNLOGGED TABLE dt_internal.state_valid (
    relid oid PRIMARY KEY REFERENCES dt_internal.dynamic_table ON DELETE CASCADE
);

CREATE TABLE dt_internal.change_log (
    input_relid oid PRIMARY KEY,
    log_relid   oid NOT NULL
);

CREATE TABLE dt_internal.refresh_log (
    refresh_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    relid               oid NOT NULL,
    table_name          text NOT NULL,
    refresh_start_time  timestamptz NOT NULL,
    refresh_end_time    timestamptz NOT NULL,
    data_timestamp      timestamptz,
    refresh_action      text,
    refresh_trigger     text NOT NULL,
    state               text NOT NULL,
    rows_inserted       bigint,
    rows_deleted        bigint,
    rows_updated        bigint,
    state_message       text
);
CREATE INDEX ON dt_internal.refresh_log (relid, refresh_id);

-- ---------------------------------------------------------------------
-- Functions
-- ---------------------------------------------------------------------

-- The defining query is parsed with the caller's search_path, as
-- CREATE VIEW does, so this function alone does not pin search_path; the
-- C code runs all of its own SQL with search_path = pg_catalog.
CREATE FUNCTION dt.create_dynamic_table(
    name text,
    query text,
    target_lag text DEFAULT '1 minute',
    refresh_mode text DEFAULT 'auto',
    initialize text DEFAULT 'on_create')
RETURNS regclass
LANGUAGE C
AS 'MODULE_PATHNAME', 'dt_create_dynamic_table';
COMMENT ON FUNCTION dt.create_dynamic_table(text, text, text, text, text) IS
    'create a table kept equal to a query, refreshed within a target lag';

CREATE FUNCTION dt.drop_dynamic_table(name regclass) RETURNS void
    LANGUAGE C STRICT SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'dt_drop_dynamic_table';
COMMENT ON FUNCTION dt.drop_dynamic_table(regclass) IS 'drop a dynamic table';

CREATE FUNCTION dt.refresh(
    name regclass,
    OUT action text,
    OUT rows_inserted bigint,
    OUT rows_deleted bigint,
    OUT rows_updated bigint,
    OUT duration interval)
RETURNS record
LANGUAGE C STRICT SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'dt_refresh';
COMMENT ON FUNCTION dt.refresh(regclass) IS 'bring a dynamic table up to date now';

CREATE FUNCTION dt.alter_dynamic_table(name regclass, target_lag text DEFAULT NULL) RETURNS void
    LANGUAGE C SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'dt_alter_dynamic_table';
COMMENT ON FUNCTION dt.alter_dynamic_table(regclass, text) IS
    'change the settings of a dynamic table; NULL keeps a setting';

CREATE FUNCTION dt.suspend(name regclass) RETURNS void
    LANGUAGE C STRICT SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'dt_suspend';
COMMENT ON FUNCTION dt.suspend(regclass) IS
    'stop scheduled refreshes of a dynamic table and of those that read it';

CREATE FUNCTION dt.resume(name regclass) RETURNS void
    LANGUAGE C STRICT SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'dt_resume';
COMMENT ON FUNCTION dt.resume(regclass) IS 'schedule a suspended dynamic table again';

-- The scheduler's decisions with a given clock: what it would refresh at
-- "now", and doing it in this session.  Tests use them to drive time.
CREATE FUNCTION dt_internal.schedule_plan(now timestamptz)
RETURNS TABLE (unit integer, step integer, name regclass)
    LANGUAGE C STRICT SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'dt_schedule_plan';
CREATE FUNCTION dt_internal.run_scheduled_refreshes(now timestamptz) RETURNS integer
    LANGUAGE C STRICT SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'dt_run_scheduled_refreshes';
REVOKE ALL ON FUNCTION dt_internal.run_scheduled_refreshes(timestamptz) FROM PUBLIC;

-- How refreshes read changes (src/capture.c): it checks that the caller may
-- read those columns of the input, so it can be left to PUBLIC.
CREATE FUNCTION dt_internal.read_changes(input regclass, since pg_snapshot, since_xid xid8,
                                         since_cid integer, columns smallint[])
RETURNS SETOF record
    LANGUAGE C STRICT SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'dt_read_changes';

-- Exact sums of floating-point values, for the state of sum, avg and the
-- variance family (src/floatsum.c).
CREATE FUNCTION dt_internal.fsum_accum(internal, double precision, smallint) RETURNS internal
    LANGUAGE C IMMUTABLE AS 'MODULE_PATHNAME', 'dt_fsum_accum';
CREATE FUNCTION dt_internal.fsum_accum_sq(internal, double precision, smallint) RETURNS internal
    LANGUAGE C IMMUTABLE AS 'MODULE_PATHNAME', 'dt_fsum_accum_sq';
CREATE FUNCTION dt_internal.fsum_final(internal) RETURNS double precision[]
    LANGUAGE C IMMUTABLE AS 'MODULE_PATHNAME', 'dt_fsum_final';
CREATE AGGREGATE dt_internal.fsum(double precision, smallint) (
    SFUNC = dt_internal.fsum_accum, STYPE = internal, FINALFUNC = dt_internal.fsum_final);
CREATE AGGREGATE dt_internal.fsum_sq(double precision, smallint) (
    SFUNC = dt_internal.fsum_accum_sq, STYPE = internal, FINALFUNC = dt_internal.fsum_final);
CREATE FUNCTION dt_internal.fsum_add(double precision[], double precision[]) RETURNS double precision[]
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'dt_fsum_add';
CREATE FUNCTION dt_internal.fsum_float8(double precision[]) RETURNS double precision
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'dt_fsum_float8';
CREATE FUNCTION dt_internal.fsum_numeric(double precision[]) RETURNS numeric
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'dt_fsum_numeric';

-- The defining query as PostgreSQL prints it now (names follow renames).
CREATE FUNCTION dt_internal.query_definition(relid oid) RETURNS text
    LANGUAGE C STABLE STRICT
    AS 'MODULE_PATHNAME', 'dt_query_definition';

-- Trigger and event trigger functions.  The capture trigger runs on every
-- write to a table a dynamic table reads; it does no name lookups, and a
-- SET clause would cost every writing statement a GUC save and restore, so
-- it alone is left without one.
CREATE FUNCTION dt_internal.capture_changes() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'dt_capture_changes';
CREATE FUNCTION dt_internal.guard_dynamic_table() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'dt_guard_dynamic_table';
CREATE FUNCTION dt_internal.on_sql_drop() RETURNS event_trigger
    LANGUAGE C SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'dt_on_sql_drop';
REVOKE ALL ON FUNCTION dt_internal.capture_changes() FROM PUBLIC;
REVOKE ALL ON FUNCTION dt_internal.guard_dynamic_table() FROM PUBLIC;
REVOKE ALL ON FUNCTION dt_internal.on_sql_drop() FROM PUBLIC;

CREATE EVENT TRIGGER dt_sql_drop ON sql_drop EXECUTE FUNCTION dt_internal.on_sql_drop();
ALTER EVENT TRIGGER dt_sql_drop ENABLE ALWAYS;

-- ---------------------------------------------------------------------
-- Views
-- ---------------------------------------------------------------------

-- Lag over time, from the refresh history: after a successful refresh
-- with data timestamp d that completed at e, and until the next completed,
-- the lag at time t is t - d.  Mean and maximum lag integrate this sawtooth
-- over the retained history (up to now); the ratio is the share of that
-- time the lag stayed within the target lag, as Snowflake's
-- time_within_target_lag_ratio.
CREATE VIEW dt.dynamic_tables AS
SELECT d.relid::regclass AS name,
       n.nspname AS schema_name,
       c.relname AS table_name,
       dt_internal.query_definition(d.relid) AS query,
       d.query_text AS query_as_written,
       CASE WHEN d.target_lag IS NULL THEN 'DOWNSTREAM' ELSE d.target_lag::text END AS target_lag,
       d.refresh_mode,
       d.requested_mode AS requested_refresh_mode,
       d.refresh_mode_reason,
       d.scheduling_state,
       d.suspend_reason AS scheduling_state_reason,
       d.populated,
       d.data_timestamp,
       pg_catalog.now() - d.data_timestamp AS current_lag,
       lag.mean_lag,
       lag.maximum_lag,
       lag.time_within_target_lag_ratio,
       last.refresh_end_time AS last_refresh,
       last.refresh_action AS last_refresh_action,
       last.state AS last_refresh_state,
       d.consecutive_failures,
       ARRAY(SELECT i.input_relid::regclass
               FROM dt_internal.dynamic_table_input i
              WHERE i.relid = d.relid
              ORDER BY i.input_relid) AS inputs,
       d.created_at
  FROM dt_internal.dynamic_table d
  JOIN pg_catalog.pg_class c ON c.oid = d.relid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN LATERAL (
      SELECT r.refresh_end_time, r.refresh_action, r.state
        FROM dt_internal.refresh_log r
       WHERE r.relid = d.relid
       ORDER BY r.refresh_id DESC
       LIMIT 1) last ON true
  LEFT JOIN LATERAL (
      SELECT pg_catalog.make_interval(secs =>
                 sum((extract(epoch FROM s.f - s.d) ^ 2 - extract(epoch FROM s.e - s.d) ^ 2) / 2)
                 / nullif(sum(extract(epoch FROM s.f - s.e)), 0)) AS mean_lag,
             max(s.f - s.d) AS maximum_lag,
             (sum(greatest(0, extract(epoch FROM least(s.f, s.d + d.target_lag) - s.e)))
                 / nullif(sum(extract(epoch FROM s.f - s.e)), 0))::float8 AS time_within_target_lag_ratio
        FROM (SELECT r.data_timestamp AS d,
                     r.refresh_end_time AS e,
                     coalesce(lead(r.refresh_end_time) OVER (ORDER BY r.refresh_id),
                              pg_catalog.now()) AS f
                FROM dt_internal.refresh_log r
               WHERE r.relid = d.relid AND r.state = 'SUCCEEDED'
                 AND r.data_timestamp IS NOT NULL) s) lag ON true;
COMMENT ON VIEW dt.dynamic_tables IS 'one row per dynamic table';

CREATE VIEW dt.refresh_history AS
SELECT r.refresh_id,
       r.table_name AS name,
       r.relid,
       r.refresh_start_time,
       r.refresh_end_time,
       r.refresh_end_time - r.refresh_start_time AS duration,
       r.data_timestamp,
       r.refresh_action,
       r.refresh_trigger,
       r.state,
       r.rows_inserted,
       r.rows_deleted,
       r.rows_updated,
       r.state_message
  FROM dt_internal.refresh_log r;
COMMENT ON VIEW dt.refresh_history IS 'one row per refresh of a dynamic table';

GRANT SELECT ON dt.dynamic_tables, dt.refresh_history TO PUBLIC;
