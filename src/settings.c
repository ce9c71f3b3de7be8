/*-------------------------------------------------------------------------
 *
 * settings.c
 *		The settings a dynamic table pins, so that its query gives the same
 *		answer whoever refreshes it.
 *
 * A DT records, when it is created, the session's TimeZone, DateStyle and
 * the other settings that stable built-in functions read (bytea_output for
 * a bytea cast to text, timezone_abbreviations and xmloption for casts of
 * text to timestamps and xml, xmlbinary for bytea in xmlelement; a DT made
 * before these four were pinned keeps the settings it recorded, as its
 * dump does); its refreshes,
 * and every parse or print of its query, run with those values, with
 * search_path = pg_catalog (the generated SQL is qualified for it),
 * standard_conforming_strings and array_nulls on (the SQL printed is read
 * again as printed), its float constants printed exactly
 * (settings_print_query) and jit off.  They are kept as "name=value" strings, in the catalog row and in
 * the arguments of the DT's dt_guard trigger (catalog_write_guard).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_ts_config.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"

#include "common.h"

/* The settings a DT pins, recorded when it is created. */
static const char *const pinned_settings[] = {
	"TimeZone", "DateStyle", "IntervalStyle", "extra_float_digits",
	"lc_monetary", "lc_numeric", "lc_time", "default_text_search_config",
	"bytea_output", "timezone_abbreviations", "xmloption", "xmlbinary"
};

/*
 * settings_current
 *		The session's values of the pinned settings, as "name=value".
 */
List *
settings_current(void)
{
	List	   *settings = NIL;
	int			i;

	for (i = 0; i < lengthof(pinned_settings); i++)
		settings = lappend(settings, psprintf("%s=%s", pinned_settings[i],
											  GetConfigOption(pinned_settings[i], false, false)));
	return settings;
}

/*
 * settings_pin
 *		Apply a DT's settings, search_path = pg_catalog,
 *		standard_conforming_strings and array_nulls on and jit = off at a
 *		new GUC nest level; the caller ends it with AtEOXact_GUC(false,
 *		level), and an error ends it with the (sub)transaction.
 */
int
settings_pin(List *settings)
{
	int			level = NewGUCNestLevel();
	ListCell   *lc;
	const char *current;

	set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
					  GUC_ACTION_SAVE, true, 0, false);

	/*
	 * The SQL the query is printed as is parsed again (a refresh's
	 * statements, a restored definition), maybe by another session: string
	 * constants printed and read as standard SQL (a backslash doubled under
	 * standard_conforming_strings = off meant two after a restore), and the
	 * NULL elements array constants print read as NULLs (array_nulls = off
	 * reads them as the string "NULL").
	 */
	set_config_option("standard_conforming_strings", "on", PGC_USERSET, PGC_S_SESSION,
					  GUC_ACTION_SAVE, true, 0, false);
	set_config_option("array_nulls", "on", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);

	/*
	 * The statements of a refresh touch few rows, but the planner's guesses
	 * about change windows can be large; compiling them costs more than it
	 * saves.
	 */
	set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	foreach(lc, settings)
	{
		char	   *name = pstrdup((char *) lfirst(lc));
		char	   *eq = strchr(name, '=');

		if (eq == NULL)
			continue;
		*eq = '\0';

		/*
		 * A value the session has already is not set again: setting
		 * timezone_abbreviations reads and parses its file (some 60 us a
		 * refresh).  Anything the refresh itself sets is undone with the
		 * level all the same.
		 */
		current = GetConfigOption(name, true, false);
		if (current != NULL && strcmp(current, eq + 1) == 0)
			continue;
		set_config_option(name, eq + 1, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	}
	return level;
}

/*
 * print_begin
 *		A GUC nest level with extra_float_digits 3, as pg_dump prints: the SQL
 *		printed is parsed again, and a float constant printed under a DT's
 *		pinned extra_float_digits below 1 lost digits (its refreshes, and its
 *		definition after a restore, compared with another number).  What the
 *		query computes (x::text) still follows the pinned value.
 */
static int
print_begin(void)
{
	int			level = NewGUCNestLevel();

	set_config_option("extra_float_digits", "3", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	return level;
}

/* settings_print_query: pg_get_querydef of query, not pretty, floats exact. */
char *
settings_print_query(Query *query)
{
	int			level = print_begin();
	char	   *sql = pg_get_querydef(query, false);

	AtEOXact_GUC(false, level);
	return sql;
}

/* settings_print_expression: deparse_expression, floats exact. */
char *
settings_print_expression(Node *expr, List *context, bool prefix)
{
	int			level = print_begin();
	char	   *sql = deparse_expression(expr, context, prefix, false);

	AtEOXact_GUC(false, level);
	return sql;
}

/* pinned_names: the pinned settings, as a list in prose ("a, b and c"). */
static char *
pinned_names(void)
{
	StringInfoData names;
	int			i;

	initStringInfo(&names);
	for (i = 0; i < lengthof(pinned_settings); i++)
		appendStringInfo(&names, "%s%s", i == 0 ? "" : i == lengthof(pinned_settings) - 1 ? " and " : ", ",
						 pinned_settings[i]);
	return names.data;
}

/*
 * settings_check
 *		Every "name=value" of a DT's settings names a pinned setting: settings
 *		read back from a restored dt_guard trigger come from the dump, and
 *		nothing else may be set around a refresh.
 */
void
settings_check(List *settings)
{
	ListCell   *lc;

	foreach(lc, settings)
	{
		const char *setting = (const char *) lfirst(lc);
		const char *eq = strchr(setting, '=');
		int			i;

		for (i = 0; eq != NULL && i < lengthof(pinned_settings); i++)
		{
			if (strlen(pinned_settings[i]) == eq - setting &&
				pg_strncasecmp(setting, pinned_settings[i], eq - setting) == 0)
				break;
		}
		if (eq == NULL || i == lengthof(pinned_settings))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid dynamic table setting \"%s\"", setting),
					 errdetail("A dynamic table pins only %s.", pinned_names())));
	}
}

/*
 * settings_ts_config
 *		The text search configuration a DT's settings pin
 *		(default_text_search_config), or InvalidOid if they pin none or it
 *		does not exist.  The DT depends on it (lifecycle.c): a refresh, and
 *		every parse of the definition, sets it, which fails once it is
 *		dropped.
 */
Oid
settings_ts_config(List *settings)
{
	const char *prefix = "default_text_search_config=";
	ListCell   *lc;

	foreach(lc, settings)
	{
		const char *setting = (const char *) lfirst(lc);

		if (pg_strncasecmp(setting, prefix, strlen(prefix)) == 0)
			return get_ts_config_oid(dt_name_list(setting + strlen(prefix)), true);
	}
	return InvalidOid;
}

/*
 * settings_name_ts_config
 *		A DT's settings with default_text_search_config naming text search
 *		configuration cfg as it is called now (after a rename, or a move to
 *		another schema), as the setting shows it.
 */
List *
settings_name_ts_config(List *settings, Oid cfg)
{
	const char *prefix = "default_text_search_config=";
	List	   *named = NIL;
	HeapTuple	tup = SearchSysCache1(TSCONFIGOID, ObjectIdGetDatum(cfg));
	Form_pg_ts_config form;
	ListCell   *lc;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for text search configuration %u", cfg);
	form = (Form_pg_ts_config) GETSTRUCT(tup);
	foreach(lc, settings)
	{
		const char *setting = (const char *) lfirst(lc);

		if (pg_strncasecmp(setting, prefix, strlen(prefix)) == 0)
			setting = psprintf("%s%s", prefix,
							   quote_qualified_identifier(get_namespace_name(form->cfgnamespace),
														  NameStr(form->cfgname)));
		named = lappend(named, (char *) setting);
	}
	ReleaseSysCache(tup);
	return named;
}

/*
 * settings_find_ts_config
 *		The text search configuration a DT's settings pin but name no
 *		longer, because the object (classid, objid) was just renamed: of
 *		candidates (the configurations the DT depends on), the renamed one,
 *		or the one of the pinned name in the renamed schema.  InvalidOid
 *		when the settings still name a configuration, or none fits.
 */
Oid
settings_find_ts_config(List *settings, List *candidates, Oid classid, Oid objid)
{
	const char *prefix = "default_text_search_config=";
	char	   *pinned = NULL;
	ListCell   *lc;

	foreach(lc, settings)
	{
		const char *setting = (const char *) lfirst(lc);

		if (pg_strncasecmp(setting, prefix, strlen(prefix)) == 0)
			pinned = strVal(llast(dt_name_list(setting + strlen(prefix))));
	}
	if (pinned == NULL || OidIsValid(settings_ts_config(settings)))
		return InvalidOid;
	foreach(lc, candidates)
	{
		Oid			cfg = lfirst_oid(lc);
		HeapTuple	tup = SearchSysCache1(TSCONFIGOID, ObjectIdGetDatum(cfg));
		Form_pg_ts_config form;
		bool		found;

		if (!HeapTupleIsValid(tup))
			continue;
		form = (Form_pg_ts_config) GETSTRUCT(tup);
		found = (classid == TSConfigRelationId && objid == cfg) ||
			(classid == NamespaceRelationId && objid == form->cfgnamespace &&
			 strcmp(NameStr(form->cfgname), pinned) == 0);
		ReleaseSysCache(tup);
		if (found)
			return cfg;
	}
	return InvalidOid;
}
