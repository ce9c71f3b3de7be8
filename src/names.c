/*-------------------------------------------------------------------------
 *
 * names.c
 *		The names of the objects pg_dynamic_tables makes, and the qualified
 *		names of relations in the SQL it generates.
 *
 * The internal objects live in schema dt_internal and are named after the
 * OID of the relation they serve:
 *
 *	changes_<input>		the change log of a table DTs read (capture.c)
 *	key_<dt>			the composite type of a delta-merge DT's group key
 *	state_<dt>			its per-group state
 *	aux_<dt>_<n>		its value counts, one table per value type
 *	final_<dt>			its state with every aggregate finalized (a view)
 *
 * Every such name is made here, by names_internal (the bare name, for
 * catalog lookups) or names_internal_qualified (quoted and qualified, for
 * SQL): nowhere else is "state_%u" spelled.  The triggers the extension
 * installs are named here too: a DT's dt_guard, and the capture triggers
 * dt_capture_<log OID>_<event> on what it reads.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "parser/scansup.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "common.h"

/* The name of each kind of internal object, before "_<relid>". */
static const char *const object_names[] = {
	[DT_OBJECT_CHANGES] = DT_CHANGES_NAME,
	[DT_OBJECT_KEY] = "key",
	[DT_OBJECT_STATE] = "state",
	[DT_OBJECT_AUX] = "aux",
	[DT_OBJECT_FINAL] = "final",
	[DT_OBJECT_SUB] = "sub",
};

/*
 * names_internal
 *		The bare name of an internal object: <kind>_<relid>, and _<no> after
 *		it when no > 0 (the auxiliary tables).  Allocated in the current
 *		memory context.
 */
char *
names_internal(DtObjectKind kind, Oid relid, int no)
{
	if (no > 0)
		return psprintf("%s_%u_%d", object_names[kind], relid, no);
	return psprintf("%s_%u", object_names[kind], relid);
}

/* names_internal_qualified: "dt_internal.<name>", quoted as SQL needs. */
char *
names_internal_qualified(DtObjectKind kind, Oid relid, int no)
{
	return quote_qualified_identifier(DT_INTERNAL_SCHEMA, names_internal(kind, relid, no));
}

/* names_internal_namespace: the OID of schema dt_internal; it must exist. */
Oid
names_internal_namespace(void)
{
	return get_namespace_oid(DT_INTERNAL_SCHEMA, false);
}

/*
 * names_internal_relid
 *		The OID of an internal relation (a change log, state or auxiliary
 *		table, final view), or InvalidOid if it does not exist.
 */
Oid
names_internal_relid(DtObjectKind kind, Oid relid, int no)
{
	return get_relname_relid(names_internal(kind, relid, no), names_internal_namespace());
}

/* names_internal_typid: the OID of a DT's key type, or InvalidOid. */
Oid
names_internal_typid(Oid relid)
{
	return GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
						   CStringGetDatum(names_internal(DT_OBJECT_KEY, relid, 0)),
						   ObjectIdGetDatum(names_internal_namespace()));
}

/*
 * names_internal_parent
 *		The DT whose internal DT relid is (sub_<dt>_<n> in dt_internal), or
 *		InvalidOid if relid is no internal DT.
 */
Oid
names_internal_parent(Oid relid)
{
	char	   *name = get_rel_name(relid);
	char		prefix[8];
	unsigned int parent;
	int			no;
	int			end = 0;

	if (name == NULL || get_rel_namespace(relid) != names_internal_namespace())
		return InvalidOid;
	snprintf(prefix, sizeof(prefix), "%s_", object_names[DT_OBJECT_SUB]);
	if (strncmp(name, prefix, strlen(prefix)) != 0 ||
		sscanf(name + strlen(prefix), "%u_%d%n", &parent, &no, &end) != 2 ||
		name[strlen(prefix) + end] != '\0' ||
		names_internal_relid(DT_OBJECT_SUB, parent, no) != relid)
		return InvalidOid;
	return parent;
}

/* names_qualified: the schema-qualified, quoted name of a relation. */
char *
names_qualified(Oid relid)
{
	char	   *rel = get_rel_name(relid);

	if (rel == NULL)
		elog(ERROR, "cache lookup failed for relation %u", relid);
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), rel);
}

/* names_capture_trigger: the capture trigger writing to log logoid on event. */
char *
names_capture_trigger(Oid logoid, const char *event)
{
	return psprintf(DT_CAPTURE_TRIGGER_PREFIX "%u_%s", logoid, event);
}

/*
 * names_is_capture_trigger
 *		Is this a capture trigger's name (the prefix that names_capture_trigger
 *		gives, reserved for them)?
 */
bool
names_is_capture_trigger(const char *name)
{
	return strncmp(name, DT_CAPTURE_TRIGGER_PREFIX, strlen(DT_CAPTURE_TRIGGER_PREFIX)) == 0;
}

/*
 * names_is_extension_trigger
 *		Is this the name of a trigger the extension installs: a DT's
 *		dt_guard, or a capture trigger?
 */
bool
names_is_extension_trigger(const char *name)
{
	return strcmp(name, DT_GUARD_TRIGGER) == 0 || names_is_capture_trigger(name);
}

/*
 * names_parse_new
 *		A qualified name given as text, as the list of its parts (what
 *		stringToQualifiedNameList makes of it), for an object to create:
 *		a part of NAMEDATALEN bytes or more is truncated with the NOTICE
 *		CREATE TABLE gives, which that function would truncate silently.
 *		The syntax is that function's to check.
 */
List *
names_parse_new(const char *qualified)
{
	const char *p = qualified;

	while (*p != '\0')
	{
		StringInfoData part;
		bool		quoted = false;

		initStringInfo(&part);
		while (scanner_isspace(*p))
			p++;
		if (*p == '"')
		{
			quoted = true;
			for (p++; *p != '\0' && !(p[0] == '"' && p[1] != '"'); p++)
			{
				if (*p == '"')
					p++;		/* a doubled quote stands for one */
				appendStringInfoChar(&part, *p);
			}
			if (*p == '"')
				p++;
		}
		else
			for (; *p != '\0' && *p != '.' && !scanner_isspace(*p); p++)
				appendStringInfoChar(&part, *p);
		if (part.len >= NAMEDATALEN)
			truncate_identifier(quoted ? part.data : downcase_identifier(part.data, part.len, false, false),
								part.len, true);
		while (*p != '\0' && *p != '.')
			p++;
		if (*p == '.')
			p++;
	}
	return dt_name_list(qualified);
}
