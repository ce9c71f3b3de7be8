/*-------------------------------------------------------------------------
 *
 * deparse.c
 *		Generate the SQL of a dynamic table's internal objects and refreshes.
 *
 * Every expression in the generated SQL comes from the analysed Query tree
 * through ruleutils (settings_print_expression and settings_print_query,
 * which print floats exactly); nothing is cut out of the user's text.
 * Text is regenerated whenever a relation involved
 * changes (refresh.c keeps the prepared plans), so renamed columns are
 * followed.  Generated SQL must be run with search_path = pg_catalog, which
 * is what deparse assumed when it decided what to qualify.
 *
 * The internal objects of an incrementally maintained DT with relid R:
 *
 *	dt_internal.key_R		composite type of the group key (k1..kn); record
 *							equality treats NULL fields as equal, so a group
 *							key is one value that can be hashed and indexed
 *	dt_internal.state_R		one row per group: gid, key, n (row count), the
 *							state of each aggregate (columns a<i>_*), and
 *							x<a>_<j>_n, the count of values of each
 *							auxiliary item
 *	dt_internal.aux_R_<a>	(gid, j, v, c): value v of item j occurs c times
 *							in group gid; one table per value type
 *	dt_internal.final_R		view: state with each aggregate finalized as a<i>
 *
 * The DT itself gets a unique index NULLS NOT DISTINCT on its group key
 * columns, which the refresh uses as ON CONFLICT arbiter (with grouping
 * sets a plain index: two groups' rows can be equal in the key columns).
 *
 * Change rows ("W") are the rows of a change log in the window of one
 * refresh, or the rows of the base table when the state is rebuilt, shaped
 * as (sign, key, x1..xn, f1..fm): the sign, the group key, the aggregate
 * arguments and the aggregate filters, after the query's WHERE clause.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/nbtree.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "access/htup_details.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "fmgr.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/plannodes.h"
#include "optimizer/optimizer.h"
#include "parser/parse_relation.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "deparse.h"


/* The WITH query of an input's change window: dt$c<relid> (changes_cte_sql). */
#define CHANGES_CTE "dt$c"
/* Its column dt$k<i>: a row of the window of the references of net set i. */
#define NET_KEEP_COL "dt$k"
/* The WITH query of the change of D of the semi-join t<rtindex>. */
#define SEMI_CHANGES_CTE "dt$d"
/* the WITH query of the value now of an uncorrelated scalar subquery */
#define SCALAR_VALUE_CTE "dt$v"

/* The relation numbering the grouping sets in change rows, its column. */
#define GROUPING_SET_REL "dt$gs"
#define GROUPING_SET_COL GROUPING_SET_REL ".s"

/* The WITH query of the keys of key column i of a recompute: dt$k<i>. */
#define KEYS_CTE "dt$k"

/*
 * The changed relations of a join whose state before the window is
 * written as "now minus the changes" in every term (change_terms): at most
 * 2^MAX_EXPANDED - 1 terms for them.
 */
#define MAX_EXPANDED 4

/*
 * The fill factor of the auxiliary tables: a fill packs them in index
 * order, and a merge then updates counts all over them; the room left on
 * each page lets such an update be a HOT update (no new index entry, no
 * second heap page), where on a full page every one of them was not.  A
 * fill loads them with more room still (refresh.c, AUX_FILL_FILLFACTOR);
 * this one is what the rows a merge adds leave.
 */
#define AUX_FILLFACTOR 85

/* How a relation of a FROM list is read by one SELECT of change rows. */
typedef enum SourceKind
{
	SOURCE_NOW,					/* its rows as of the refresh */
	SOURCE_CHANGES,				/* its changes in the window */
	SOURCE_BEFORE				/* its rows as of the previous refresh */
} SourceKind;

/* What the statements of a delta-merge DT are built from. */
typedef struct DeparseMerge
{
	Oid			dtrelid;
	DtAnalysis *an;
	DtSql	   *sql;			/* the layout of merge's and apply's rows */
	char	   *dt;				/* qualified DT name */
	char	   *state;
	char	   *final;
	char	   *keytype;
	List	   *from_ctx;		/* deparse context: FROM relation i as "t<i>" */
	List	   *final_ctx;		/* deparse context: final view as "f" */
	Oid			final_relid;
	Oid			key_typid;
} DeparseMerge;

/* type_sql: a type name with typmod, qualified unless built in. */
static char *
type_sql(Oid type, int32 typmod)
{
	return format_type_extended(type, typmod,
								FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY);
}

/* operator_name_sql: "OPERATOR(schema.name)" of operator opr. */
static char *
operator_name_sql(Oid opr)
{
	HeapTuple	tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(opr));
	char	   *result;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for operator %u", opr);
	result = psprintf("OPERATOR(%s.%s)",
					  quote_identifier(get_namespace_name(((Form_pg_operator) GETSTRUCT(tup))->oprnamespace)),
					  NameStr(((Form_pg_operator) GETSTRUCT(tup))->oprname));
	ReleaseSysCache(tup);
	return result;
}

/*
 * operator_sql
 *		"OPERATOR(schema.name)" for the <, = or > (strategy) of a type's
 *		default btree operator class: the operators its indexes order and
 *		compare by, whatever search_path would find for the name.
 */
static char *
operator_sql(Oid type, int strategy)
{
	TypeCacheEntry *tc = lookup_type_cache(type, TYPECACHE_LT_OPR | TYPECACHE_EQ_OPR | TYPECACHE_GT_OPR);
	Oid			opr = strategy == BTLessStrategyNumber ? tc->lt_opr
	: strategy == BTEqualStrategyNumber ? tc->eq_opr : tc->gt_opr;

	if (!OidIsValid(opr))
		elog(ERROR, "type %s has no btree operator for strategy %d", format_type_be(type), strategy);
	return operator_name_sql(opr);
}

/* collate_sql: " COLLATE x" for a collatable type, else "". */
static char *
collate_sql(Oid collation)
{
	if (!OidIsValid(collation))
		return "";
	return psprintf(" COLLATE %s", generate_collation_name(collation));
}

/*
 * semantic_vars_mutator
 *		A copy of node whose Vars of its level (*depth levels up, in its
 *		subqueries) have no syntactic referent: ruleutils prints a Var the
 *		query reads through a join's alias (j.a of FROM (t JOIN u ...) j) as
 *		the join's column, and the statements have only the relations of a
 *		FROM list, not its joins.
 */
static Node *
semantic_vars_mutator(Node *node, int *depth)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Var) && ((Var *) node)->varlevelsup == *depth)
	{
		Var		   *var = (Var *) copyObject(node);

		var->varnosyn = 0;
		var->varattnosyn = 0;
		return (Node *) var;
	}
	if (IsA(node, Query))
	{
		Node	   *result;

		(*depth)++;
		result = (Node *) query_tree_mutator((Query *) node, semantic_vars_mutator, depth, 0);
		(*depth)--;
		return result;
	}
	return expression_tree_mutator(node, semantic_vars_mutator, depth);
}

/*
 * deparse_semantic_vars
 *		A copy of an expression of a query level whose Vars of that level
 *		print as the relations they read (semantic_vars_mutator), for a
 *		deparse context that has those relations and not the query's joins.
 */
Node *
deparse_semantic_vars(Node *node)
{
	int			depth = 0;

	return semantic_vars_mutator(node, &depth);
}

/*
 * expr_sql: an expression of the defining query, over context ctx, its
 * Vars named by the relations they read (deparse_semantic_vars).
 */
static char *
expr_sql(Expr *expr, List *ctx)
{
	return settings_print_expression(deparse_semantic_vars((Node *) expr), ctx, true);
}

/* column_sql: a column definition, "name type [COLLATE c]". */
static char *
column_sql(const char *name, Oid type, int32 typmod, Oid collation)
{
	return psprintf("%s %s%s", quote_identifier(name), type_sql(type, typmod), collate_sql(collation));
}

/*
 * deparse_dt_columns
 *		The column definitions of a DT: the query's output columns with their
 *		names, types and collations, as "name type [COLLATE c]" strings.
 */
List *
deparse_dt_columns(Query *query)
{
	List	   *cols = NIL;
	ListCell   *lc;

	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		Oid			type = exprType((Node *) tle->expr);

		if (tle->resjunk)
			continue;
		if (type == UNKNOWNOID)
			type = TEXTOID;
		cols = lappend(cols, column_sql(tle->resname ? tle->resname : "?column?", type,
										exprTypmod((Node *) tle->expr),
										exprCollation((Node *) tle->expr)));
	}
	return cols;
}

/*
 * deparse_table_columns
 *		The columns a table has, as deparse_dt_columns writes them, in
 *		order; *attnums: their attribute numbers.
 */
List *
deparse_table_columns(Oid relid, List **attnums)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	List	   *cols = NIL;
	int			i;

	*attnums = NIL;
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		cols = lappend(cols, column_sql(NameStr(att->attname), att->atttypid, att->atttypmod,
										att->attcollation));
		*attnums = lappend_int(*attnums, att->attnum);
	}
	table_close(rel, AccessShareLock);
	return cols;
}

/* ---------------------------------------------------------------------
 * State columns, delta expressions and finalizers, per aggregate kind
 * ---------------------------------------------------------------------
 */

/* has_special_values: does the sum of agg count NaN and infinities apart? */
static bool
has_special_values(DtAggregate *agg)
{
	return agg->domain == DT_DOMAIN_NUMERIC || agg->domain == DT_DOMAIN_FLOAT;
}

/* is_sum_like: does an aggregate of this kind keep a count and a sum? */
static bool
is_sum_like(DtAggKind kind)
{
	return kind == DT_AGG_SUM || kind == DT_AGG_AVG || kind == DT_AGG_VAR_SAMP ||
		kind == DT_AGG_VAR_POP || kind == DT_AGG_STDDEV_SAMP || kind == DT_AGG_STDDEV_POP;
}

/* is_variance: does it keep a sum of squares too? */
static bool
is_variance(DtAggKind kind)
{
	return kind == DT_AGG_VAR_SAMP || kind == DT_AGG_VAR_POP ||
		kind == DT_AGG_STDDEV_SAMP || kind == DT_AGG_STDDEV_POP;
}

/* is_percentile: does it keep a cursor? */
static bool
is_percentile(DtAggKind kind)
{
	return kind == DT_AGG_PERCENTILE_CONT || kind == DT_AGG_PERCENTILE_DISC;
}

/*
 * sum_state_type
 *		The type of a<i>_s: numeric for money too, whose sum in money
 *		overflowed (money out of range) where a window's delta or a partial
 *		sum left its range while the group's sum did not; the finalizer
 *		casts it back.
 */
static const char *
sum_state_type(DtAggregate *agg)
{
	switch (agg->domain)
	{
		case DT_DOMAIN_INTERVAL:
			return "interval";
		case DT_DOMAIN_FLOAT:
			return "float8[]";
		default:
			return "numeric";
	}
}

/*
 * The additive state columns of an aggregate: name, type and the delta
 * expression over change rows "w".  Counters and sums merge by addition.
 */
typedef struct AddColumn
{
	char	   *name;
	const char *type;
	char	   *delta;			/* over the change rows "w" */
	char	   *merge;			/* the state "s" plus the delta "excluded" */
	const char *zero;			/* the state of an empty group */
} AddColumn;

/* cond_sql: the rows an aggregate counts: argument not null, filter true. */
static char *
cond_sql(DtAggregate *agg)
{
	StringInfoData s;

	initStringInfo(&s);
	if (agg->input_no > 0)
		appendStringInfo(&s, "w.x%d IS NOT NULL", agg->input_no);
	else
		appendStringInfoString(&s, "true");
	if (agg->filter_no > 0)
		appendStringInfo(&s, " AND w.f%d", agg->filter_no);
	return s.data;
}

/* finite_sql: the argument of agg is neither NaN nor infinite. */
static char *
finite_sql(DtAggregate *agg)
{
	const char *t = type_sql(agg->argtype, -1);

	return psprintf("w.x%d <> 'NaN'::%s AND w.x%d <> 'Infinity'::%s AND w.x%d <> '-Infinity'::%s",
					agg->input_no, t, agg->input_no, t, agg->input_no, t);
}

/* add_column: an additive state column; floats add as expansions. */
static AddColumn *
add_column(char *name, const char *type, char *delta)
{
	AddColumn  *col = palloc(sizeof(AddColumn));

	col->name = name;
	col->type = type;
	col->delta = delta;
	if (strcmp(type, "float8[]") == 0)
	{
		col->merge = psprintf(DT_INTERNAL_SCHEMA ".fsum_add(s.%s, excluded.%s)", name, name);
		col->zero = "'{}'::float8[]";
	}
	else
	{
		col->merge = psprintf("s.%s + excluded.%s", name, name);
		col->zero = psprintf("'0'::%s", type);
	}
	return col;
}

/*
 * signed_sql
 *		value (of a change row "w") times the row's sign, written so that the
 *		usual signs cost no arithmetic: a sign of 1 passes value through and
 *		-1 negates it, where value * sign would first convert the sign to
 *		value's type (for numeric, a conversion and a multiplication per row:
 *		a sixth of the build of TPC-H Q1's state, seven numeric sums).  Any
 *		other sign is multiplied (cast with sign_cast).
 */
static char *
signed_sql(const char *value, const char *sign_cast)
{
	return psprintf("CASE w." DT_COL_SIGN " WHEN 1 THEN %s WHEN -1 THEN - %s ELSE %s * w." DT_COL_SIGN "%s END",
					value, value, value, sign_cast);
}

/*
 * sum_delta
 *		The signed sum of an aggregate's argument (or, with square, of its
 *		square) over the change rows satisfying cond, in the arithmetic of
 *		its state: int8 where it cannot overflow, numeric (money's too), or
 *		an exact expansion for floats (floatsum.c).
 */
static char *
sum_delta(DtAggregate *agg, const char *cond, bool square)
{
	int			x = agg->input_no;
	const char *type;

	switch (agg->domain)
	{
		case DT_DOMAIN_FLOAT:
			return psprintf(DT_INTERNAL_SCHEMA ".%s(w.x%d, w." DT_COL_SIGN ") FILTER (WHERE %s)",
							square ? "fsum_sq" : "fsum", x, cond);
		case DT_DOMAIN_INTERVAL:
			return psprintf("COALESCE(sum(%s) FILTER (WHERE %s), '0'::interval)",
							signed_sql(psprintf("w.x%d", x), "::float8"), cond);
		case DT_DOMAIN_INTEGER:
			/* int2 and int4 squares and sums fit in int8; int8 ones do not */
			if (agg->argtype != INT8OID)
			{
				type = "int8";
				break;
			}
			/* FALLTHROUGH */
		default:
			type = "numeric";
			break;
	}
	return psprintf("COALESCE(sum(%s) FILTER (WHERE %s), 0)",
					signed_sql(square ? psprintf("(w.x%d::%s * w.x%d)", x, type, x)
							   : psprintf("w.x%d::%s", x, type), ""), cond);
}

/* count_delta: sum of signs over the rows satisfying cond. */
static char *
count_delta(const char *cond)
{
	return psprintf("COALESCE(sum(w." DT_COL_SIGN ") FILTER (WHERE %s), 0)", cond);
}

/* additive_columns: the additive state columns of all aggregates and items. */
static List *
additive_columns(DtAnalysis *an)
{
	List	   *cols = NIL;
	ListCell   *lc;

	foreach(lc, an->aggregates)
	{
		DtAggregate *agg = (DtAggregate *) lfirst(lc);
		int			i = agg->no;
		char	   *cond = cond_sql(agg);

		switch (agg->kind)
		{
			case DT_AGG_COUNT_STAR:
			case DT_AGG_COUNT:
				cols = lappend(cols, add_column(psprintf("a%d_c", i), "bigint", count_delta(cond)));
				break;
			case DT_AGG_BOOL_AND:
			case DT_AGG_BOOL_OR:
				cols = lappend(cols, add_column(psprintf("a%d_t", i), "bigint",
												count_delta(psprintf("%s AND w.x%d", cond, agg->input_no))));
				cols = lappend(cols, add_column(psprintf("a%d_f", i), "bigint",
												count_delta(psprintf("%s AND NOT w.x%d", cond, agg->input_no))));
				break;
			default:
				break;
		}
		if (is_sum_like(agg->kind))
		{
			char	   *sumcond = has_special_values(agg)
			? psprintf("%s AND %s", cond, finite_sql(agg)) : cond;

			cols = lappend(cols, add_column(psprintf("a%d_c", i), "bigint", count_delta(cond)));
			cols = lappend(cols, add_column(psprintf("a%d_s", i), sum_state_type(agg),
											sum_delta(agg, sumcond, false)));
			if (is_variance(agg->kind))
				cols = lappend(cols, add_column(psprintf("a%d_ss", i), sum_state_type(agg),
												sum_delta(agg, sumcond, true)));
			if (has_special_values(agg))
			{
				const char *t = type_sql(agg->argtype, -1);

				cols = lappend(cols, add_column(psprintf("a%d_nan", i), "bigint",
												count_delta(psprintf("%s AND w.x%d = 'NaN'::%s", cond, agg->input_no, t))));
				cols = lappend(cols, add_column(psprintf("a%d_pinf", i), "bigint",
												count_delta(psprintf("%s AND w.x%d = 'Infinity'::%s", cond, agg->input_no, t))));
				cols = lappend(cols, add_column(psprintf("a%d_ninf", i), "bigint",
												count_delta(psprintf("%s AND w.x%d = '-Infinity'::%s", cond, agg->input_no, t))));
			}
		}
	}

	/* The number of values of every auxiliary item. */
	foreach(lc, an->aux_tables)
	{
		DtAuxTable *aux = (DtAuxTable *) lfirst(lc);
		ListCell   *lc2;

		foreach(lc2, aux->items)
		{
			DtAuxItem  *item = (DtAuxItem *) lfirst(lc2);
			char	   *cond = item->filter_no > 0
			? psprintf("w.x%d IS NOT NULL AND w.f%d", item->input_no, item->filter_no)
			: psprintf("w.x%d IS NOT NULL", item->input_no);

			cols = lappend(cols, add_column(psprintf("x%d_%d_n", aux->no, item->j), "bigint",
											count_delta(cond)));
		}
	}
	return cols;
}

/* special_case_sql: the CASE arms for NaN and infinities of a sum. */
static char *
special_case_sql(DtAggregate *agg, const char *restype)
{
	int			i = agg->no;

	return psprintf("WHEN s.a%d_nan > 0 OR (s.a%d_pinf > 0 AND s.a%d_ninf > 0) THEN 'NaN'::%s "
					"WHEN s.a%d_pinf > 0 THEN 'Infinity'::%s "
					"WHEN s.a%d_ninf > 0 THEN '-Infinity'::%s ",
					i, i, i, restype, i, restype, i, restype);
}

/* aux_n: the state column counting the values of an aggregate's item. */
static char *
aux_n(DtAggregate *agg)
{
	return psprintf("s.x%d_%d_n", agg->aux_no, agg->aux_item);
}

/*
 * finalize_sql
 *		The value of an aggregate computed from its state row "s", following
 *		PostgreSQL's own final functions (float8_avg, numeric_stddev_internal,
 *		percentile_cont_final_common, ...) operation by operation.
 */
static char *
finalize_sql(DtAggregate *agg)
{
	int			i = agg->no;
	char	   *rt = type_sql(agg->restype, agg->restypmod);
	char	   *specials = has_special_values(agg) ? special_case_sql(agg, rt) : "";

	switch (agg->kind)
	{
		case DT_AGG_COUNT_STAR:
		case DT_AGG_COUNT:
			return psprintf("s.a%d_c", i);
		case DT_AGG_COUNT_DISTINCT:
			return psprintf("s.a%d_cd", i);
		case DT_AGG_SUM:
			if (agg->domain == DT_DOMAIN_FLOAT)
				return psprintf("CASE WHEN s.a%d_c = 0 THEN NULL %sELSE " DT_INTERNAL_SCHEMA ".fsum_float8(s.a%d_s)::%s END",
								i, specials, i, rt);
			return psprintf("CASE WHEN s.a%d_c = 0 THEN NULL %sELSE s.a%d_s::%s END",
							i, specials, i, rt);
		case DT_AGG_AVG:
			if (agg->domain == DT_DOMAIN_INTERVAL)
				return psprintf("CASE WHEN s.a%d_c = 0 THEN NULL ELSE s.a%d_s / s.a%d_c::float8 END",
								i, i, i);
			if (agg->domain == DT_DOMAIN_FLOAT)
				return psprintf("CASE WHEN s.a%d_c = 0 THEN NULL %sELSE " DT_INTERNAL_SCHEMA ".fsum_float8(s.a%d_s) / s.a%d_c::float8 END",
								i, specials, i, i);
			return psprintf("CASE WHEN s.a%d_c = 0 THEN NULL %sELSE (s.a%d_s / s.a%d_c::numeric)::%s END",
							i, specials, i, i, rt);
		case DT_AGG_VAR_SAMP:
		case DT_AGG_VAR_POP:
		case DT_AGG_STDDEV_SAMP:
		case DT_AGG_STDDEV_POP:
			{
				bool		samp = (agg->kind == DT_AGG_VAR_SAMP || agg->kind == DT_AGG_STDDEV_SAMP);
				bool		sd = (agg->kind == DT_AGG_STDDEV_SAMP || agg->kind == DT_AGG_STDDEV_POP);
				char	   *num;
				char	   *var;
				char	   *value;

				if (has_special_values(agg))
					specials = psprintf("WHEN s.a%d_nan + s.a%d_pinf + s.a%d_ninf > 0 THEN 'NaN'::%s ", i, i, i, rt);
				if (agg->domain == DT_DOMAIN_FLOAT)
				{
					/* the exact sums' variance, 0 where it is not positive */
					var = psprintf(DT_INTERNAL_SCHEMA ".fsum_variance(s.a%d_c, s.a%d_s, s.a%d_ss, %s)",
								   i, i, i, samp ? "true" : "false");
					return psprintf("CASE WHEN s.a%d_c %s THEN NULL %sELSE %s END",
									i, samp ? "<= 1" : "= 0", specials, sd ? psprintf("sqrt(%s)", var) : var);
				}

				/*
				 * N * sumX2 - sumX * sumX over N*(N-1) or N*N; a plain 0 when
				 * that numerator is not positive, and NaN when any input was
				 * NaN or infinite, as numeric_stddev_internal does
				 */
				num = psprintf("(s.a%d_c::numeric * s.a%d_ss - s.a%d_s * s.a%d_s)", i, i, i, i);
				var = psprintf("(%s / (s.a%d_c::numeric * %s))", num, i,
							   samp ? psprintf("(s.a%d_c - 1)::numeric", i) : psprintf("s.a%d_c::numeric", i));

				/*
				 * sqrt_var at the quotient's scale: computed finer, then
				 * rounded
				 */
				value = sd ? psprintf("round(sqrt(round(%s, scale(%s) + 12)), scale(%s))", var, var, var) : var;
				return psprintf("CASE WHEN s.a%d_c %s THEN NULL %sWHEN %s <= 0 THEN 0::%s ELSE %s END",
								i, samp ? "<= 1" : "= 0", specials, num, rt, value);
			}
		case DT_AGG_MIN:
		case DT_AGG_MAX:
			return psprintf("s.a%d_m", i);
		case DT_AGG_PERCENTILE_CONT:
			{
				/* rank = p * (N - 1); lerp only between two different rows */
				char	   *pos = psprintf("(%.17g::float8 * (%s - 1)::float8)", agg->fraction, aux_n(agg));

				return psprintf("CASE WHEN %s = 0 THEN NULL WHEN floor(%s) = ceil(%s) THEN s.a%d_cv "
								"ELSE s.a%d_cv + (s.a%d_nv - s.a%d_cv) * (%s - floor(%s)) END",
								aux_n(agg), pos, pos, i, i, i, i, pos, pos);
			}
		case DT_AGG_PERCENTILE_DISC:
			return psprintf("CASE WHEN %s = 0 THEN NULL ELSE s.a%d_cv END", aux_n(agg), i);
		case DT_AGG_BOOL_AND:
			return psprintf("CASE WHEN s.a%d_t + s.a%d_f = 0 THEN NULL ELSE s.a%d_f = 0 END", i, i, i);
		case DT_AGG_BOOL_OR:
			return psprintf("CASE WHEN s.a%d_t + s.a%d_f = 0 THEN NULL ELSE s.a%d_t > 0 END", i, i, i);
		case DT_AGG_RANKED:
			return psprintf("s.a%d_v", i);
	}
	elog(ERROR, "unexpected aggregate kind %d", agg->kind);
	return NULL;
}

/*
 * holistic_columns
 *		The non-additive state columns, as CREATE TABLE defines them
 *		(char *).
 */
static List *
holistic_columns(DtAnalysis *an)
{
	List	   *cols = NIL;
	ListCell   *lc;

	foreach(lc, an->aggregates)
	{
		DtAggregate *agg = (DtAggregate *) lfirst(lc);
		char	   *vt;

		if (agg->kind == DT_AGG_RANKED)
			cols = lappend(cols, psprintf("a%d_v %s", agg->no, type_sql(agg->restype, agg->restypmod)));
		if (agg->aux_no == 0)
			continue;
		vt = psprintf("%s%s", type_sql(agg->argtype, agg->argtypmod), collate_sql(agg->argcollation));
		switch (agg->kind)
		{
			case DT_AGG_MIN:
			case DT_AGG_MAX:
				cols = lappend(cols, psprintf("a%d_m %s", agg->no, vt));
				break;
			case DT_AGG_COUNT_DISTINCT:
				cols = lappend(cols, psprintf("a%d_cd bigint NOT NULL DEFAULT 0", agg->no));
				break;
			case DT_AGG_PERCENTILE_CONT:
				cols = lappend(cols, psprintf("a%d_cv %s", agg->no, vt));
				cols = lappend(cols, psprintf("a%d_nv %s", agg->no, vt));
				cols = lappend(cols, psprintf("a%d_lt bigint NOT NULL DEFAULT 0", agg->no));
				break;
			case DT_AGG_PERCENTILE_DISC:
				cols = lappend(cols, psprintf("a%d_cv %s", agg->no, vt));
				cols = lappend(cols, psprintf("a%d_lt bigint NOT NULL DEFAULT 0", agg->no));
				break;
			default:
				break;
		}
	}
	return cols;
}

/* The columns of a state table before those of its aggregates. */
#define STATE_KEY_COLUMNS 3

/*
 * deparse_state_width
 *		The columns of the state table of a delta-merge analysis (gid, key,
 *		n, then those of its aggregates): a query with hundreds of
 *		aggregates may need more than a table can have.
 */
int
deparse_state_width(DtAnalysis *an)
{
	return STATE_KEY_COLUMNS + list_length(additive_columns(an)) + list_length(holistic_columns(an));
}

/* ---------------------------------------------------------------------
 * Internal objects
 * ---------------------------------------------------------------------
 */

/* key_columns_sql: the DT's group key columns, quoted, comma separated. */
static char *
key_columns_sql(Query *query, List *keys)
{
	StringInfoData s;
	ListCell   *lc;

	initStringInfo(&s);
	foreach(lc, keys)
	{
		TargetEntry *tle = get_tle_by_resno(query->targetList, ((DtKey *) lfirst(lc))->resno);

		appendStringInfo(&s, "%s%s", s.len > 0 ? ", " : "", quote_identifier(tle->resname));
	}
	return s.data;
}

/*
 * deparse_internal_objects
 *		DDL creating the internal objects of an incremental DT in schema
 *		dt_internal, in order: the key type, the state table, the auxiliary
 *		tables, and the final view over the state.
 */
List *
deparse_internal_objects(Oid dtrelid, DtAnalysis *an)
{
	List	   *ddl = NIL;
	StringInfoData s;
	ListCell   *lc;
	char	   *state = names_internal_qualified(DT_OBJECT_STATE, dtrelid, 0);
	int			k = 0;

	Assert(an->strategy == DT_STRATEGY_MERGE);

	initStringInfo(&s);
	appendStringInfo(&s, "CREATE TYPE %s AS (", names_internal_qualified(DT_OBJECT_KEY, dtrelid, 0));
	foreach(lc, an->keys)
	{
		DtKey	   *key = (DtKey *) lfirst(lc);

		appendStringInfo(&s, "%sk%d %s%s", k > 0 ? ", " : "", k + 1,
						 type_sql(key->type, key->typmod), collate_sql(key->collation));
		k++;
	}
	if (an->grouping_sets != NIL)
		appendStringInfoString(&s, ", gs int4");
	appendStringInfoChar(&s, ')');
	ddl = lappend(ddl, s.data);
	/* nobody else may use it (a column of that type would pin it) */
	ddl = lappend(ddl, psprintf("REVOKE ALL ON TYPE %s FROM PUBLIC", names_internal_qualified(DT_OBJECT_KEY, dtrelid, 0)));

	initStringInfo(&s);
	/* STATE_KEY_COLUMNS, then those of the aggregates */
	appendStringInfo(&s, "CREATE UNLOGGED TABLE %s (gid bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
					 "key %s NOT NULL, n bigint NOT NULL DEFAULT 0",
					 state, names_internal_qualified(DT_OBJECT_KEY, dtrelid, 0));
	foreach(lc, additive_columns(an))
	{
		AddColumn  *col = (AddColumn *) lfirst(lc);

		appendStringInfo(&s, ", %s %s NOT NULL DEFAULT %s", col->name, col->type, col->zero);
	}
	foreach(lc, holistic_columns(an))
		appendStringInfo(&s, ", %s", (char *) lfirst(lc));
	appendStringInfoString(&s, ") WITH (fillfactor = 80)");
	ddl = lappend(ddl, s.data);
	ddl = lappend(ddl, psprintf("CREATE UNIQUE INDEX ON %s (key)", state));

	foreach(lc, an->aux_tables)
	{
		DtAuxTable *aux = (DtAuxTable *) lfirst(lc);

		ddl = lappend(ddl, psprintf("CREATE UNLOGGED TABLE %s (gid bigint NOT NULL, j smallint NOT NULL, "
									"v %s%s NOT NULL, c bigint NOT NULL, PRIMARY KEY (gid, j, v)) "
									"WITH (fillfactor = " CppAsString2(AUX_FILLFACTOR) ")",
									names_internal_qualified(DT_OBJECT_AUX, dtrelid, aux->no),
									type_sql(aux->valtype, aux->valtypmod),
									collate_sql(aux->valcollation)));
	}

	initStringInfo(&s);
	appendStringInfoString(&s, "CREATE VIEW ");
	appendStringInfoString(&s, names_internal_qualified(DT_OBJECT_FINAL, dtrelid, 0));
	appendStringInfoString(&s, " AS SELECT s.gid, s.key, s.n");
	foreach(lc, an->aggregates)
	{
		DtAggregate *agg = (DtAggregate *) lfirst(lc);

		appendStringInfo(&s, ", %s AS a%d", finalize_sql(agg), agg->no);
	}
	appendStringInfo(&s, " FROM %s s", state);
	ddl = lappend(ddl, s.data);

	return ddl;
}

/* One ORDER BY column of a top-k, as an index on its relation orders it. */
typedef struct TopKColumn
{
	AttrNumber	attno;
	Oid			family;			/* of the sort operator */
	Oid			collation;
	bool		desc;
	bool		nulls_first;
} TopKColumn;

/*
 * top_k_order
 *		The ORDER BY of a top-k (DT_STRATEGY_TOP_K) as columns of its
 *		relation (*relid), each ordered by its type's default btree operator
 *		class under its own collation; NIL where an expression is not such a
 *		column.
 */
static List *
top_k_order(DtAnalysis *an, Oid *relid)
{
	Query	   *query = an->query;
	RangeTblRef *ref = linitial_node(RangeTblRef, query->jointree->fromlist);
	List	   *order = NIL;
	ListCell   *lc;

	*relid = rt_fetch(ref->rtindex, query->rtable)->relid;
	foreach(lc, query->sortClause)
	{
		SortGroupClause *sgc = lfirst_node(SortGroupClause, lc);
		Var		   *var = (Var *) get_sortgroupclause_expr(sgc, query->targetList);
		TopKColumn *col = palloc0(sizeof(TopKColumn));
		Oid			type;
		int16		strategy;
		Oid			opclass;
		int32		typmod;

		if (!IsA(var, Var) || var->varno != ref->rtindex || var->varattno <= 0 ||
			!get_ordering_op_properties(sgc->sortop, &col->family, &type, &strategy) ||
			!OidIsValid(opclass = GetDefaultOpClass(var->vartype, BTREE_AM_OID)) ||
			get_opclass_family(opclass) != col->family)
			return NIL;
		get_atttypetypmodcoll(*relid, var->varattno, &type, &typmod, &col->collation);
		if (var->varcollid != col->collation)
			return NIL;
		col->attno = var->varattno;
		col->desc = (strategy == BTGreaterStrategyNumber);
		col->nulls_first = sgc->nulls_first;
		order = lappend(order, col);
	}
	return order;
}

/*
 * index_reads_in_order
 *		Does index indexid (a valid btree without expressions or predicate)
 *		lead with the columns of order, scanned forward or backward?
 */
static bool
index_reads_in_order(Oid indexid, List *order)
{
	Relation	index = index_open(indexid, AccessShareLock);
	bool		forward;
	bool		backward;
	ListCell   *lc;

	forward = backward = index->rd_rel->relam == BTREE_AM_OID && index->rd_index->indisvalid &&
		index->rd_index->indnkeyatts >= list_length(order) &&
		heap_attisnull(index->rd_indextuple, Anum_pg_index_indexprs, NULL) &&
		heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, NULL);
	foreach(lc, order)
	{
		TopKColumn *col = (TopKColumn *) lfirst(lc);
		int			k = foreach_current_index(lc);
		bool		desc;
		bool		nulls_first;

		if (!forward && !backward)
			break;
		desc = (index->rd_indoption[k] & INDOPTION_DESC) != 0;
		nulls_first = (index->rd_indoption[k] & INDOPTION_NULLS_FIRST) != 0;
		if (index->rd_index->indkey.values[k] != col->attno || index->rd_opfamily[k] != col->family ||
			index->rd_indcollation[k] != col->collation)
			forward = backward = false;
		forward = forward && desc == col->desc && nulls_first == col->nulls_first;
		backward = backward && desc != col->desc && nulls_first != col->nulls_first;
	}
	index_close(index, AccessShareLock);
	return forward || backward;
}

/*
 * deparse_top_k_index
 *		The index that reads the first rows of the relation of a top-k
 *		(DT_STRATEGY_TOP_K) in its ORDER BY: its columns, each ascending or
 *		descending and NULLS FIRST or LAST as ordered, where every ORDER BY
 *		expression is a column of it ordered by its type's default btree
 *		operator class and its own collation; NULL otherwise, and, if
 *		missing, NULL where an index of the relation reads it in that order
 *		already.
 */
char *
deparse_top_k_index(DtAnalysis *an, bool missing)
{
	Oid			relid;
	List	   *order = an->query->sortClause != NIL ? top_k_order(an, &relid) : NIL;
	StringInfoData s;
	ListCell   *lc;

	if (order == NIL)
		return NULL;
	if (missing)
	{
		Relation	rel = table_open(relid, AccessShareLock);
		List	   *indexes = RelationGetIndexList(rel);

		table_close(rel, AccessShareLock);
		foreach(lc, indexes)
		{
			if (index_reads_in_order(lfirst_oid(lc), order))
				return NULL;
		}
	}
	initStringInfo(&s);
	foreach(lc, order)
	{
		TopKColumn *col = (TopKColumn *) lfirst(lc);

		appendStringInfo(&s, "%s%s%s NULLS %s", s.len > 0 ? ", " : "",
						 quote_identifier(get_attname(relid, col->attno, false)),
						 col->desc ? " DESC" : "", col->nulls_first ? "FIRST" : "LAST");
	}
	return psprintf("CREATE INDEX ON %s (%s)", names_qualified(relid), s.data);
}

/*
 * deparse_key_index
 *		The index of a DT on its key: for delta merge, unique on the group
 *		key columns, NULLS NOT DISTINCT (NULL for a DT without GROUP BY);
 *		for recompute, on the partition key columns.
 */
char *
deparse_key_index(Oid dtrelid, DtAnalysis *an)
{
	if (an->strategy == DT_STRATEGY_RECOMPUTE)
	{
		return psprintf("CREATE INDEX ON %s (%s)", names_qualified(dtrelid), recompute_key_columns(an));
	}
	if (an->keys == NIL)
		return NULL;
	if (an->grouping_sets != NIL)
		return psprintf("CREATE INDEX ON %s (%s)", names_qualified(dtrelid), key_columns_sql(an->query, an->keys));
	return psprintf("CREATE UNIQUE INDEX ON %s (%s) NULLS NOT DISTINCT",
					names_qualified(dtrelid), key_columns_sql(an->query, an->keys));
}

/* ---------------------------------------------------------------------
 * Change rows
 * ---------------------------------------------------------------------
 */

/*
 * log_column_type
 *		The type, typmod and collation of column a of input as its change
 *		log stores it: a domain's base type (the log holds no constraint).
 */
static void
log_column_type(DtInput *input, AttrNumber a, Oid *type, int32 *typmod, Oid *collation)
{
	get_atttypetypmodcoll(input->relid, a, type, typmod, collation);
	*type = getBaseTypeAndTypmod(*type, typmod);
}

/*
 * read_changes_sql
 *		The change window of an input as relation "c" (dt$sign, aN...), read
 *		through dt_internal.read_changes from the position $1, $2, $3.
 */
static char *
read_changes_sql(DtInput *input)
{
	StringInfoData cols;
	StringInfoData defs;
	int			attnum = -1;

	initStringInfo(&cols);
	initStringInfo(&defs);
	while ((attnum = bms_next_member(input->attnums, attnum)) >= 0)
	{
		AttrNumber	a = attnum + FirstLowInvalidHeapAttributeNumber;
		Oid			type;
		int32		typmod;
		Oid			collation;

		log_column_type(input, a, &type, &typmod, &collation);
		appendStringInfo(&cols, "%s%d", cols.len > 0 ? "," : "", a);
		appendStringInfo(&defs, ", a%d %s%s", a, type_sql(type, typmod), collate_sql(collation));
	}
	return psprintf(DT_INTERNAL_SCHEMA ".read_changes(%u, $1, $2, $3, '{%s}') AS c(" DT_COL_SIGN " smallint%s)",
					input->relid, cols.data, defs.data);
}

/*
 * context_for_level
 *		A deparse context in which a Var of a query level prints as
 *		t<rtindex>.column, matching the aliases of source_sql.
 */
static List *
context_for_level(Query *level)
{
	PlannedStmt *stmt = makeNode(PlannedStmt);
	List	   *names = NIL;
	int			i;

	stmt->rtable = level->rtable;
	for (i = 1; i <= list_length(stmt->rtable); i++)
		names = lappend(names, psprintf("t%d", i));
	return deparse_context_for_plan_tree(stmt, names);
}

/*
 * column_name
 *		The name a Var of column a of rel prints with in a deparse context
 *		of context_for_level, as ruleutils names it: the column alias its
 *		FROM item gave it (FROM a AS t(c1, c2), a restored definition of a
 *		query whose column was renamed), else its name now.
 */
static const char *
column_name(DtFromRel *rel, AttrNumber a)
{
	if (a > 0 && a <= list_length(rel->aliases))
		return quote_identifier(strVal(list_nth(rel->aliases, a - 1)));
	return quote_identifier(get_attname(rel->input->relid, a, false));
}

/*
 * equal_means_identical
 *		Are two values of a type (and collation) that its default btree
 *		opclass finds equal always the same bytes (its BTEQUALIMAGE_PROC, the
 *		test of B-tree deduplication)?  Not numeric (1.0 = 1.00), floats
 *		(0 = -0), nondeterministic collations; bpchar only with a length,
 *		whose values are all padded to it, in a deterministic collation:
 *		decided here, as PostgreSQL 15.20 withdrew bpchar's
 *		BTEQUALIMAGE_PROC ('a' and 'a ' without a length), which left
 *		every change of a table read through a char(n) column unnetted.
 */
static bool
equal_means_identical(Oid type, int32 typmod, Oid collation)
{
	Oid			opclass = GetDefaultOpClass(type, BTREE_AM_OID);
	Oid			opcintype;
	Oid			proc;

	if (type == BPCHAROID)
		return typmod >= 0 && OidIsValid(collation) && get_collation_isdeterministic(collation);
	if (!OidIsValid(opclass))
		return false;
	opcintype = get_opclass_input_type(opclass);
	proc = get_opfamily_proc(get_opclass_family(opclass), opcintype, opcintype, BTEQUALIMAGE_PROC);
	return OidIsValid(proc) &&
		DatumGetBool(OidFunctionCall1Coll(proc, collation, ObjectIdGetDatum(opcintype)));
}

/*
 * net_columns
 *		Columns attnums of an input (those a DT reads, or one reference
 *		of it), as "c.aN, ..." into cols, and whether the rows of a value
 *		of them whose signs sum to 0 can be left out of its change window:
 *		where equal values are identical (equal_means_identical), such rows
 *		change nothing read through those columns.
 */
static bool
net_columns(DtInput *input, Bitmapset *attnums, StringInfo cols)
{
	int			attnum = -1;
	bool		cancel = true;

	while ((attnum = bms_next_member(attnums, attnum)) >= 0)
	{
		AttrNumber	a = attnum + FirstLowInvalidHeapAttributeNumber;
		Oid			type;
		int32		typmod;
		Oid			collation;

		log_column_type(input, a, &type, &typmod, &collation);
		cancel = cancel && equal_means_identical(type, typmod, collation);
		appendStringInfo(cols, "%sc.a%d", cols->len > 0 ? ", " : "", a);
	}
	return cancel;
}

/*
 * net_sum_sql
 *		The change window of an input with "dt$net", the sum of the signs
 *		of the rows of each value of the columns cols (net_columns).
 */
static char *
net_sum_sql(DtInput *input, const char *cols)
{
	return psprintf("SELECT c.*, pg_catalog.sum(c." DT_COL_SIGN ") OVER (%s%s) AS dt$net FROM %s",
					cols[0] != '\0' ? "PARTITION BY " : "", cols, read_changes_sql(input));
}

/*
 * net_changes_sql
 *		The change window of an input, without the markers, as the SELECT
 *		of a WITH query (sign, aN...), netted over columns attnums (those
 *		the DT reads, or those of its one reference of the input whose
 *		columns differ: input->net_sets).  The log holds the columns every
 *		DT over the input reads: an UPDATE of columns this DT does not read
 *		is a row deleted and the same row inserted.  Where net_columns
 *		allows, the rows of a value whose signs sum to 0 are left out, so
 *		that such updates (a supplier's balance, for a query that reads its
 *		nation) cost a refresh nothing; the rows kept still sum to each
 *		value's change.  The window's count (count_sql) leaves out the
 *		same rows, netted over all the columns the DT reads.
 */
static char *
net_changes_sql(DtInput *input, Bitmapset *attnums)
{
	StringInfoData cols;

	initStringInfo(&cols);
	if (!net_columns(input, attnums, &cols))
		return psprintf("SELECT * FROM %s WHERE c." DT_COL_SIGN " <> 0", read_changes_sql(input));
	return psprintf("SELECT c." DT_COL_SIGN "%s%s FROM (%s WHERE c." DT_COL_SIGN " <> 0) c WHERE c.dt$net <> 0",
					cols.len > 0 ? ", " : "", cols.data, net_sum_sql(input, cols.data));
}

/*
 * net_sets_changes_sql
 *		The change window of an input read through references of different
 *		columns (input->net_sets, two or more), without the markers, as the
 *		SELECT of a WITH query (sign, aN..., dt$k1...): the log read once,
 *		and dt$k<i> whether a row is in the window of the references of
 *		set i, netted over its columns as net_changes_sql nets; the rows in
 *		none are left out.  An UPDATE of TPC-H's nation's region is, for
 *		Q8's reference that reads its name, no change.
 */
static char *
net_sets_changes_sql(DtInput *input)
{
	StringInfoData sums;
	StringInfoData keeps;
	StringInfoData any;
	bool		keep_all = false;
	ListCell   *ls;

	initStringInfo(&sums);
	initStringInfo(&keeps);
	initStringInfo(&any);
	foreach(ls, input->net_sets)
	{
		int			i = foreach_current_index(ls) + 1;
		StringInfoData cols;

		initStringInfo(&cols);
		if (net_columns(input, (Bitmapset *) lfirst(ls), &cols))
		{
			appendStringInfo(&sums, ", pg_catalog.sum(c." DT_COL_SIGN ") OVER (%s%s) AS dt$net%d",
							 cols.len > 0 ? "PARTITION BY " : "", cols.data, i);
			appendStringInfo(&keeps, ", c.dt$net%d <> 0 AS " NET_KEEP_COL "%d", i, i);
			appendStringInfo(&any, "%sc.dt$net%d <> 0", any.len > 0 ? " OR " : "", i);
		}
		else
		{
			appendStringInfo(&keeps, ", true AS " NET_KEEP_COL "%d", i);
			keep_all = true;
		}
	}
	return psprintf("SELECT c.*%s FROM (SELECT c.*%s FROM %s WHERE c." DT_COL_SIGN " <> 0) c%s%s",
					keeps.data, sums.data, read_changes_sql(input),
					keep_all ? "" : " WHERE ", keep_all ? "" : any.data);
}

/*
 * count_sql
 *		The rows and the rebuild markers in the window of an input, without
 *		the rows net_changes_sql leaves out: an input whose changes all
 *		cancel out did not change; then all its rows (what the window
 *		consumes, which capture_cleanup may delete).  NULL where
 *		net_changes_sql leaves out nothing: the refresh counts the window's
 *		rows without a statement (capture_count_window).  The rows are
 *		grouped by value (hashed, where the netting of net_changes_sql
 *		sorts them: the count of TPC-H's lineitems at 1% of the orders
 *		changed sorted 7,000 rows of several columns).
 */
static char *
count_sql(DtInput *input)
{
	StringInfoData cols;

	initStringInfo(&cols);
	if (!net_columns(input, input->attnums, &cols))
		return NULL;
	return psprintf("SELECT COALESCE(pg_catalog.sum(g.n) FILTER (WHERE g.net <> 0), 0)::int8, "
					"COALESCE(pg_catalog.sum(g.markers), 0)::int8, COALESCE(pg_catalog.sum(g.n + g.markers), 0)::int8 "
					"FROM (SELECT pg_catalog.sum(c." DT_COL_SIGN ") AS net, "
					"count(*) FILTER (WHERE c." DT_COL_SIGN " <> 0) AS n, "
					"count(*) FILTER (WHERE c." DT_COL_SIGN " = 0) AS markers FROM %s%s%s) g",
					read_changes_sql(input), cols.len > 0 ? " GROUP BY " : "", cols.data);
}

/*
 * changes_cte_sql
 *		"WITH" and the change windows of the inputs "changed" (relids) that
 *		rels (of DtFromRel) read, each as a materialized WITH query
 *		"dt$c<relid>" (sign, aN...) without the markers (net_changes_sql,
 *		or net_sets_changes_sql for an input whose references read
 *		different columns): each window is read once, however many terms
 *		of a statement join it.
 */
static char *
changes_cte_sql(List *rels, List *changed)
{
	StringInfoData s;
	List	   *done = NIL;
	ListCell   *lc;

	initStringInfo(&s);
	foreach(lc, rels)
	{
		DtInput    *input = ((DtFromRel *) lfirst(lc))->input;

		if (input == NULL || !list_member_oid(changed, input->relid) ||
			list_member_oid(done, input->relid))
			continue;
		done = lappend_oid(done, input->relid);
		appendStringInfo(&s, "%s" CHANGES_CTE "%u AS MATERIALIZED (%s)",
						 list_length(done) > 1 ? ", " : "WITH ", input->relid,
						 list_length(input->net_sets) > 1 ? net_sets_changes_sql(input)
						 : net_changes_sql(input, input->net_sets != NIL ? linitial(input->net_sets) : input->attnums));
	}
	return s.data;
}

/*
 * constant_sql
 *		A constant relation (a VALUES list, a function in FROM) as relation
 *		"t<rtindex>" with sign 1 and its columns as the query's Vars print
 *		them (its eref names): "SELECT * FROM" it, as ruleutils prints it.
 */
static char *
constant_sql(DtFromRel *rel)
{
	Query	   *q = makeNode(Query);
	RangeTblRef *ref = makeNode(RangeTblRef);
	List	   *names;
	List	   *vars;
	ListCell   *ln;
	ListCell   *lv;

	q->commandType = CMD_SELECT;
	q->rtable = list_make1(copyObject(rel->constant));
	ref->rtindex = 1;
	q->jointree = makeFromExpr(list_make1(ref), NULL);
	expandRTE(rel->constant, 1, 0, -1, false, &names, &vars);
	forboth(ln, names, lv, vars)
		q->targetList = lappend(q->targetList,
								makeTargetEntry((Expr *) lfirst(lv), list_length(q->targetList) + 1,
												strVal(lfirst(ln)), false));
	return psprintf("(SELECT 1::smallint AS " DT_COL_SIGN ", q.* FROM (%s) q) t%u",
					settings_print_query(q), rel->rtindex);
}

/*
 * source_columns
 *		The columns of its input a relation of the FROM list is read with:
 *		its own where its changes are netted over them (rel->net_no), else
 *		all those the DT reads.
 */
static Bitmapset *
source_columns(DtFromRel *rel)
{
	return rel->net_no > 0 ? rel->attnums : rel->input->attnums;
}

/*
 * source_sql
 *		A relation of the FROM list as relation "t<rtindex>", with its
 *		columns named as the query's Vars print (column_name) plus the
 *		sign: its rows now (sign 1), its change window (the signs of the
 *		log, from the WITH query of changes_cte_sql), or its rows before
 *		the window, as the signed multiset "now minus the changes".  Change
 *		logs name captured column attnum N "aN".  A relation whose window
 *		is netted over its own columns (rel->net_no) reads its rows of the
 *		window (dt$k<i>): none, for Q8's nation n2 after an UPDATE of a
 *		nation's region, which only n1 reads, where the window netted over
 *		every column the DT reads (count_sql) is not empty; a term that
 *		joins it ends at that empty scan.  (A gate such as EXISTS on the
 *		window, a condition of no relation, made the planner try every
 *		join order of the term: Q8's statement took 350 ms to plan
 *		instead of 50.)
 */
static char *
source_sql(DtFromRel *rel, SourceKind kind)
{
	DtInput    *input = rel->input;
	StringInfoData now;
	StringInfoData changes;
	int			attnum = -1;

	if (rel->constant != NULL)
		return constant_sql(rel);
	if (input->net_sets != NIL && rel->net_no == 0)
		elog(ERROR, "relation %u of input %u has no column set of its own", rel->rtindex, input->relid);
	initStringInfo(&now);
	initStringInfo(&changes);
	appendStringInfoString(&now, "SELECT 1::smallint AS " DT_COL_SIGN);
	appendStringInfo(&changes, "SELECT %s AS " DT_COL_SIGN,
					 kind == SOURCE_BEFORE ? "(- c." DT_COL_SIGN ")::smallint" : "c." DT_COL_SIGN);
	while ((attnum = bms_next_member(source_columns(rel), attnum)) >= 0)
	{
		AttrNumber	a = attnum + FirstLowInvalidHeapAttributeNumber;
		const char *name = column_name(rel, a);
		Oid			type;
		int32		typmod;
		Oid			collation;

		get_atttypetypmodcoll(input->relid, a, &type, &typmod, &collation);
		appendStringInfo(&now, ", b.%s AS %s", quote_identifier(get_attname(input->relid, a, false)), name);
		if (getBaseType(type) != type)
			appendStringInfo(&changes, ", c.a%d::%s AS %s", a, type_sql(type, typmod), name);
		else
			appendStringInfo(&changes, ", c.a%d AS %s", a, name);
	}
	appendStringInfo(&now, " FROM %s%s b", input->inh ? "" : "ONLY ",
					 names_qualified(input->relid));
	appendStringInfo(&changes, " FROM " CHANGES_CTE "%u c", input->relid);
	if (list_length(input->net_sets) > 1)
		appendStringInfo(&changes, " WHERE c." NET_KEEP_COL "%d", rel->net_no);
	switch (kind)
	{
		case SOURCE_NOW:
			return psprintf("(%s) t%u", now.data, rel->rtindex);
		case SOURCE_CHANGES:
			return psprintf("(%s) t%u", changes.data, rel->rtindex);
		case SOURCE_BEFORE:
			break;
	}
	return psprintf("(%s UNION ALL %s) t%u", now.data, changes.data, rel->rtindex);
}

static char *semi_eval_changes_sql(DtFromRel *rel, List *ctx, const char *local, const char *key_filter);

/*
 * semi_changes_sql
 *		The change of D, the keys of a semi- or anti-join (DtSemiJoin), in
 *		the window, as a SELECT of (dt$sign, k1..kn): the keys of
 *		its table's changed rows under its conditions whose existence the
 *		window flipped, +1 where a key appeared and -1 where it went
 *		(negated for an anti-join, whose weight is 1 - D).  A key existed
 *		before iff its rows now, counted through the table's index on it,
 *		outnumber the window's signed count d.  The count stops at
 *		max(d, 0) + 1 rows: a key with that many rows exists now and
 *		existed before, and the probe of a key with many rows (Q22's
 *		orders of a customer) reads one or two of them.  NULL keys match
 *		nothing.
 */
static char *
semi_changes_sql(DtFromRel *rel, const char *key_filter)
{
	DtSemiJoin *semi = rel->semi;
	List	   *ctx = context_for_level(semi->sub);
	DtFromRel	table = {.rtindex = semi->sub_rtindex,.input = rel->input,.attnums = rel->attnums,.net_no = rel->net_no};
	const char *local = semi->local_quals ? expr_sql((Expr *) semi->local_quals, ctx) : "true";
	StringInfoData keys;
	StringInfoData outs;
	StringInfoData match;
	StringInfoData notnull;
	StringInfoData groups;
	ListCell   *lc;

	if (semi->eval != NULL)
		return semi_eval_changes_sql(rel, ctx, local, key_filter);
	initStringInfo(&keys);
	initStringInfo(&outs);
	initStringInfo(&match);
	initStringInfo(&notnull);
	initStringInfo(&groups);
	foreach(lc, semi->inner_keys)
	{
		Expr	   *key = (Expr *) lfirst(lc);
		char	   *e = expr_sql(key, ctx);
		int			k = foreach_current_index(lc) + 1;

		appendStringInfo(&keys, "%s AS k%d, ", e, k);
		appendStringInfo(&outs, ", x.k%d", k);
		appendStringInfo(&match, " AND (%s) %s x.k%d", e, operator_sql(exprType((Node *) key), BTEqualStrategyNumber), k);
		appendStringInfo(&notnull, " AND (%s) IS NOT NULL", e);
		appendStringInfo(&groups, "%s%d", k > 1 ? ", " : "", k);
	}
	return psprintf("SELECT (CASE WHEN n.c > 0 THEN %d ELSE %d END)::smallint AS " DT_COL_SIGN "%s "
					"FROM (SELECT %spg_catalog.sum(t%u." DT_COL_SIGN ") AS d FROM %s WHERE (%s)%s GROUP BY %s) x "
					"CROSS JOIN LATERAL (SELECT pg_catalog.count(*) AS c FROM (SELECT FROM %s WHERE (%s)%s "
					"LIMIT GREATEST(x.d, 0) + 1) r) n "
					"WHERE (n.c > 0) <> (n.c - x.d > 0)%s",
					semi->anti ? -1 : 1, semi->anti ? 1 : -1, outs.data,
					keys.data, semi->sub_rtindex, source_sql(&table, SOURCE_CHANGES), local, notnull.data,
					groups.data, source_sql(&table, SOURCE_NOW), local, match.data, key_filter);
}

/*
 * eval_sql
 *		The subquery of a semi-join without its correlation (DtSemiJoin's
 *		eval), reading its table's rows of one key from WITH query
 *		"dt_rows".
 */
static char *
eval_sql(DtSemiJoin *semi)
{
	return settings_print_query(semi->eval);
}

/*
 * semi_eval_changes_sql
 *		semi_changes_sql for a D evaluated per key (an IN over a grouping, a
 *		scalar aggregate): for each key of the window's changed rows, the
 *		subquery over the table's rows of that key now ("dt_rows") and as
 *		they were ("dt_was": now, without the window's net inserted rows,
 *		with its net deleted ones, "dt_net", handed to each key as arrays
 *		of its own rows; the subquery's own conditions and the keys not
 *		null are tested on the window's rows before they are netted, as
 *		the rows of one value pass or fail together: a window mostly of
 *		other rows, such as Q20's lineitems of other years, is netted
 *		after that filter); a key whose existence flipped
 *		is +1 or -1, a scalar whose value changed is one row with the new
 *		value v and the old one was_v (scalar_change_sql).  Only the keys
 *		that pass key_filter
 *		(semi_key_filter_sql) are evaluated, over the rows under the
 *		subquery's own conditions (the window's rows in dt_net_k are); the
 *		values of a key are computed once (OFFSET 0: the planner would
 *		otherwise push the comparison of the two values into their
 *		subquery, which evaluates each twice).  A subquery that reads no
 *		column of its table (SELECT count(*) FROM t) nets its window's rows
 *		into one count, and its rows have no column.
 */
static char *
semi_eval_changes_sql(DtFromRel *rel, List *ctx, const char *local, const char *key_filter)
{
	DtSemiJoin *semi = rel->semi;
	DtFromRel	table = {.rtindex = semi->sub_rtindex,.input = rel->input,.attnums = rel->attnums,.net_no = rel->net_no};
	StringInfoData cols;
	StringInfoData keys;
	StringInfoData outs;
	StringInfoData match;
	StringInfoData notnull;
	StringInfoData arrays;
	StringInfoData unnests;
	StringInfoData names;
	StringInfoData groups;
	int			attnum = -1;
	int			ncols = 0;
	char	   *t = psprintf("t%u", semi->sub_rtindex);
	char	   *result;
	ListCell   *lc;

	initStringInfo(&cols);
	initStringInfo(&keys);
	initStringInfo(&outs);
	initStringInfo(&match);
	initStringInfo(&notnull);
	initStringInfo(&arrays);
	initStringInfo(&unnests);
	initStringInfo(&names);
	initStringInfo(&groups);
	appendStringInfoString(&groups, "1");
	while ((attnum = bms_next_member(source_columns(&table), attnum)) >= 0)
	{
		const char *name = quote_identifier(get_attname(rel->input->relid, attnum + FirstLowInvalidHeapAttributeNumber, false));

		appendStringInfo(&cols, "%s%s.%s", ncols > 0 ? ", " : "", t, name);
		appendStringInfo(&arrays, "%spg_catalog.array_agg(%s.%s) AS dt_a%d", ncols > 0 ? ", " : "", t, name, ncols);
		appendStringInfo(&unnests, "pg_catalog.unnest(x.dt_a%d), ", ncols);
		appendStringInfo(&names, "%s, ", name);
		ncols++;
	}
	appendStringInfo(&arrays, "%spg_catalog.array_agg(%s.dt_d) AS dt_ad", ncols > 0 ? ", " : "", t);
	appendStringInfoString(&unnests, "pg_catalog.unnest(x.dt_ad)");
	appendStringInfoString(&names, "dt_d");
	appendStringInfoString(&keys, "true AS dt_any");
	foreach(lc, semi->inner_keys)
	{
		Expr	   *key = (Expr *) lfirst(lc);
		char	   *e = expr_sql(key, ctx);
		int			k = foreach_current_index(lc) + 1;

		appendStringInfo(&keys, ", %s AS k%d", e, k);
		appendStringInfo(&outs, "x.k%d, ", k);
		appendStringInfo(&match, " AND (%s) %s x.k%d", e, operator_sql(exprType((Node *) key), BTEqualStrategyNumber), k);
		appendStringInfo(&notnull, " AND (%s) IS NOT NULL", e);
		appendStringInfo(&groups, ", %d", k + 1);
	}
	result = psprintf("WITH dt_net AS MATERIALIZED (SELECT %s%spg_catalog.sum(%s." DT_COL_SIGN ") AS dt_d FROM %s "
					  "WHERE (%s)%s%s%s), "
					  "dt_keys AS MATERIALIZED (SELECT x.* FROM (SELECT %s, %s FROM dt_net %s "
					  "WHERE %s.dt_d <> 0 GROUP BY %s) x WHERE true%s) "
					  "SELECT %s%s%s "
					  "FROM dt_keys x "
					  "CROSS JOIN LATERAL (WITH dt_rows AS (SELECT %s FROM %s WHERE (%s)%s), "
					  "dt_net_k AS (SELECT * FROM ROWS FROM (%s) AS %s(%s)), "
					  "dt_was AS (SELECT * FROM dt_rows EXCEPT ALL "
					  "SELECT %s FROM dt_net_k %s, pg_catalog.generate_series(1, %s.dt_d) WHERE %s.dt_d > 0 "
					  "UNION ALL SELECT %s FROM dt_net_k %s, pg_catalog.generate_series(1, - %s.dt_d) WHERE %s.dt_d < 0) ",
					  cols.data, ncols > 0 ? ", " : "", t, source_sql(&table, SOURCE_CHANGES), local, notnull.data,
					  ncols > 0 ? " GROUP BY " : "", cols.data,
					  keys.data, arrays.data, t, t, groups.data, key_filter,
					  semi->scalar ? "" : "r.s AS " DT_COL_SIGN ", ", outs.data,
					  semi->scalar ? "n.now_v AS v, n.was_v" : "true AS dt_any",
					  cols.data, source_sql(&table, SOURCE_NOW), local, match.data,
					  unnests.data, t, names.data,
					  cols.data, t, t, t,
					  cols.data, t, t, t);
	if (semi->scalar)
		return psprintf("%sSELECT (%s) AS now_v, (WITH dt_rows AS (SELECT * FROM dt_was) %s) AS was_v OFFSET 0) n "
						"WHERE n.now_v IS DISTINCT FROM n.was_v",
						result, eval_sql(semi), eval_sql(semi));
	return psprintf("%sSELECT EXISTS (%s) AS now_e, EXISTS (WITH dt_rows AS (SELECT * FROM dt_was) %s) AS was_e OFFSET 0) n "
					"CROSS JOIN LATERAL (SELECT (CASE WHEN n.now_e THEN %d ELSE %d END)::smallint AS s) r "
					"WHERE n.now_e <> n.was_e",
					result, eval_sql(semi), eval_sql(semi),
					semi->anti ? -1 : 1, semi->anti ? 1 : -1);
}

/* read_as: is a relation read in a term of change rows, its sign counted? */
static bool
read_as(DtFromRel *rel, SourceKind kind)
{
	/* D of a semi-join, but for its change, is its predicate in WHERE */
	return rel->semi == NULL || kind == SOURCE_CHANGES;
}

/*
 * set_key_sql
 *		Key expression sql of a change row counted in the group of grouping
 *		set GROUPING_SET_COL: NULL where the set does not have the key (as
 *		PostgreSQL's output is).  Without grouping sets, sql.
 */
static char *
set_key_sql(DtAnalysis *an, DtKey *key, char *sql)
{
	StringInfoData sets;
	ListCell   *lc;
	int			n = 0;

	initStringInfo(&sets);
	foreach(lc, an->grouping_sets)
	{
		if (bms_is_member(key->sortgroupref, (Bitmapset *) lfirst(lc)))
			appendStringInfo(&sets, "%s%d", n++ > 0 ? ", " : "", foreach_current_index(lc) + 1);
	}
	if (n == list_length(an->grouping_sets))
		return sql;
	return psprintf("CASE WHEN " GROUPING_SET_COL " IN (%s) THEN %s END", sets.data, sql);
}

/*
 * grouping_sets_values_sql
 *		The relation that counts a change row once in each grouping set,
 *		appended to the FROM list "from", and its column GROUPING_SET_COL:
 *		the set's number, the last field of the group key.
 */
static char *
grouping_sets_values_sql(DtAnalysis *an, StringInfo from)
{
	int			i;

	appendStringInfoString(from, ", (VALUES ");
	for (i = 1; i <= list_length(an->grouping_sets); i++)
		appendStringInfo(from, "%s(%d)", i > 1 ? ", " : "", i);
	appendStringInfoString(from, ") " GROUPING_SET_REL "(s)");
	return GROUPING_SET_COL;
}

/*
 * correlated_sublink_walker
 *		Does node hold a subquery that reads a column of the level node is
 *		in (evaluated once per row, not once per statement)?
 */
static bool
correlated_sublink_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, SubLink) && contain_vars_of_level(((SubLink *) node)->subselect, 1))
		return true;
	return expression_tree_walker(node, correlated_sublink_walker, context);
}

/*
 * scalar_value
 *		Is D of rel the value of an uncorrelated scalar subquery (one row,
 *		no key), whose value now the terms of a window read from WITH query
 *		"dt$v<rtindex>" (semi_changes_ctes_sql)?
 */
static bool
scalar_value(DtFromRel *rel)
{
	return rel->semi != NULL && rel->semi->scalar && rel->semi->inner_keys == NIL;
}

/*
 * How value_mutator reads the value v of a scalar's D in its condition:
 * as it is (now), as the value before the window (was_v, the next column
 * of D's change), or as the lesser or greater of both; and, for an
 * uncorrelated scalar, read once from D's change (once_colnames, its
 * columns: change_value_once).
 */
typedef enum ValueRead
{
	VALUE_NOW,
	VALUE_WAS,
	VALUE_EXTREME
} ValueRead;

typedef struct ValueReplace
{
	Index		rtindex;
	AttrNumber	attno;			/* v's column */
	ValueRead	read;
	MinMaxOp	minmax;			/* VALUE_EXTREME's */
	Oid			inputcollid;	/* the comparison's, for VALUE_EXTREME */
	List	   *once_colnames;	/* NIL, or the columns of D */
} ValueReplace;

/*
 * change_value_once
 *		expr, over the columns of the change of an uncorrelated scalar's D
 *		(relation rtindex, columns colnames, one row at most: WITH query
 *		"dt$d<rtindex>"), as a scalar subquery reading that row.  The
 *		planner computes it once, before the statement (an InitPlan), and a
 *		condition comparing a column with it is one of the column's
 *		relation alone, tested in its scan, where the planner puts the
 *		cheap comparisons first: Q22's scan of the customers compares each
 *		balance with the two averages and computes the dearer country code
 *		of the phone only for those between them (some 40 of 15,000 at 1%
 *		of the orders changed; joined with D's change, the comparisons came
 *		after the scan, which computed the country code of every customer).
 */
static Node *
change_value_once(Node *expr, Index rtindex, List *colnames)
{
	Query	   *sub = makeNode(Query);
	RangeTblEntry *rte = makeNode(RangeTblEntry);
	RangeTblRef *ref = makeNode(RangeTblRef);
	SubLink    *link = makeNode(SubLink);

	rte->rtekind = RTE_CTE;
	rte->ctename = psprintf(SEMI_CHANGES_CTE "%u", rtindex);
	rte->eref = makeAlias(psprintf("t%u", rtindex), colnames);
	rte->inFromCl = true;
	ref->rtindex = 1;
	expr = copyObject(expr);
	ChangeVarNodes(expr, rtindex, 1, 0);
	sub->commandType = CMD_SELECT;
	sub->canSetTag = true;
	sub->rtable = list_make1(rte);
	sub->jointree = makeFromExpr(list_make1(ref), NULL);
	sub->targetList = list_make1(makeTargetEntry((Expr *) expr, 1, pstrdup("value"), false));
	link->subLinkType = EXPR_SUBLINK;
	link->subselect = (Node *) sub;
	link->location = -1;
	return (Node *) link;
}

/* value_mutator: the condition with v read as ValueReplace says. */
static Node *
value_mutator(Node *node, ValueReplace *r)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Var) && ((Var *) node)->varno == (int) r->rtindex &&
		((Var *) node)->varattno == r->attno && ((Var *) node)->varlevelsup == 0)
	{
		Var		   *was = copyObject((Var *) node);
		Node	   *value = copyObject(node);

		was->varattno++;
		was->varattnosyn = was->varattno;	/* ruleutils prints this one */
		if (r->read == VALUE_WAS)
			value = (Node *) was;
		else if (r->read == VALUE_EXTREME)
		{
			MinMaxExpr *m = makeNode(MinMaxExpr);

			m->minmaxtype = was->vartype;
			m->minmaxcollid = was->varcollid;
			m->inputcollid = r->inputcollid;
			m->op = r->minmax;
			m->args = list_make2(value, was);
			m->location = -1;
			value = (Node *) m;
		}
		if (r->once_colnames != NIL)
			return change_value_once(value, r->rtindex, r->once_colnames);
		return value;
	}
	return expression_tree_mutator(node, value_mutator, r);
}

/*
 * value_bound
 *		For the change of a scalar's D whose condition compares the value v
 *		with an expression x of other relations (x > v, x >= v, x < v,
 *		x <= v, either side, by an operator of the default B-tree ordering
 *		of v's type): the condition with v read as the lesser of v and
 *		was_v where x is above v, the greater where it is below, which
 *		every row whose condition the change flipped meets (x > v flips
 *		for min < x <= max, and with one value NULL for x above the
 *		other).  Else NULL.  Redundant with the exact test, but a range
 *		the planner sees: with it, Q22's term of its average balance's
 *		change reads the customers whose balance lies between the two
 *		averages, and probes the orders of those only, instead of every
 *		customer's.  With once_colnames (D's columns, for an uncorrelated
 *		scalar), the lesser or greater is read once (change_value_once).
 */
static Node *
value_bound(DtFromRel *rel, List *once_colnames)
{
	OpExpr	   *op = (OpExpr *) rel->semi->value_cond;
	AttrNumber	attno = list_length(rel->semi->inner_keys) + 1;
	ValueReplace r = {rel->rtindex, attno, VALUE_EXTREME, IS_LEAST, InvalidOid, once_colnames};
	Var		   *v = NULL;
	bool		v_left = false;
	Oid			opclass;
	int			strategy;
	ListCell   *lc;

	if (!IsA(op, OpExpr) || list_length(op->args) != 2)
		return NULL;
	foreach(lc, op->args)
	{
		Var		   *arg = (Var *) lfirst(lc);

		if (IsA(arg, Var) && arg->varno == (int) rel->rtindex && arg->varattno == attno &&
			arg->varlevelsup == 0)
		{
			v = arg;
			v_left = foreach_current_index(lc) == 0;
		}
	}
	if (v == NULL || bms_is_member(rel->rtindex, pull_varnos(NULL, v_left ? lsecond(op->args) : linitial(op->args))))
		return NULL;
	opclass = GetDefaultOpClass(v->vartype, BTREE_AM_OID);
	if (!OidIsValid(opclass))
		return NULL;
	strategy = get_op_opfamily_strategy(op->opno, get_opclass_family(opclass));
	if (strategy == 0 || strategy == BTEqualStrategyNumber)
		return NULL;
	if (v_left)
		strategy = BTCommuteStrategyNumber(strategy);
	/* now x <strategy> v */
	r.minmax = strategy == BTGreaterStrategyNumber || strategy == BTGreaterEqualStrategyNumber ? IS_LEAST : IS_GREATEST;
	r.inputcollid = op->inputcollid;
	return value_mutator(copyObject((Node *) op), &r);
}

/*
 * scalar_change_sql
 *		The change of a scalar's D (one row per key whose value changed: v
 *		now, was_v before, semi_eval_changes_sql) read in a term: its
 *		conditions, keys equal and the value's condition flipped, and in
 *		*sign the row's sign, +1 where the condition holds now, -1 where
 *		it held before.  Each row of the other relations is counted once,
 *		not once for each value (Q22's average balance: every customer
 *		above either average was read twice, its orders probed twice).
 *		For an uncorrelated scalar, the flip and the bound read v and
 *		was_v once each (change_value_once): conditions of the other
 *		relations alone, tested in their scans before dearer ones.
 */
static char *
scalar_change_sql(DeparseMerge *b, DtFromRel *rel, char **sign)
{
	DtSemiJoin *semi = rel->semi;
	List	   *once = scalar_value(rel) ? rt_fetch(rel->rtindex, b->an->query->rtable)->eref->colnames : NIL;
	AttrNumber	attno = list_length(semi->inner_keys) + 1;
	ValueReplace now_once = {rel->rtindex, attno, VALUE_NOW, IS_LEAST, InvalidOid, once};
	ValueReplace was_once = {rel->rtindex, attno, VALUE_WAS, IS_LEAST, InvalidOid, once};
	char	   *now = expr_sql((Expr *) semi->value_cond, b->from_ctx);
	char	   *now_test = expr_sql((Expr *) value_mutator(copyObject(semi->value_cond), &now_once), b->from_ctx);
	char	   *was_test = expr_sql((Expr *) value_mutator(copyObject(semi->value_cond), &was_once), b->from_ctx);
	Node	   *bound = value_bound(rel, once);
	StringInfoData s;
	ListCell   *lc;

	initStringInfo(&s);
	if (semi->inner_keys != NIL)
	{
		foreach(lc, make_ands_implicit((Expr *) semi->join_quals))
		{
			if (lfirst(lc) != semi->value_cond)
				appendStringInfo(&s, "(%s) AND ", expr_sql((Expr *) lfirst(lc), b->from_ctx));
		}
	}
	appendStringInfo(&s, "COALESCE(%s, false) <> COALESCE(%s, false)", now_test, was_test);
	if (bound != NULL)
		appendStringInfo(&s, " AND (%s)", expr_sql((Expr *) bound, b->from_ctx));
	*sign = psprintf("(CASE WHEN COALESCE(%s, false) THEN 1 ELSE -1 END)", now);
	return s.data;
}

/*
 * changed_quals_sql
 *		The conditions under which a row of D's change matches: the join
 *		conditions of D, and for a scalar's the value's condition over
 *		either value, now or before.
 */
static char *
changed_quals_sql(DeparseMerge *b, DtFromRel *rel)
{
	ValueReplace r = {rel->rtindex, list_length(rel->semi->inner_keys) + 1, VALUE_WAS, IS_LEAST, InvalidOid, NIL};
	List	   *quals = NIL;
	ListCell   *lc;

	if (!rel->semi->scalar)
		return expr_sql((Expr *) rel->semi->join_quals, b->from_ctx);
	foreach(lc, rel->semi->inner_keys != NIL ? make_ands_implicit((Expr *) rel->semi->join_quals)
			: list_make1(rel->semi->value_cond))
	{
		Node	   *q = (Node *) lfirst(lc);

		if (q == rel->semi->value_cond)
			q = (Node *) make_orclause(list_make2(q, value_mutator(copyObject(q), &r)));
		quals = lappend(quals, q);
	}
	return expr_sql(make_ands_explicit(quals), b->from_ctx);
}

/*
 * change_term_sql
 *		One SELECT of change rows: the relations of the FROM list read as
 *		kinds[i] says, the sign of a row the product of its relations' signs
 *		(negated if negate), the group key, the aggregate inputs and filters,
 *		under the query's WHERE and join conditions.  The predicate of a
 *		semi-join evaluated per key (DtSemiJoin's eval), read now, that
 *		holds a correlated subquery (Q20's sum of the part-supplier's
 *		lineitems; the planner never makes it a join) is a column of a
 *		subquery fenced
 *		with OFFSET 0, tested above it: it is evaluated once per row of the
 *		joined relations, after every other condition, where the planner
 *		would test it on the rows of its own relation before the joins
 *		that leave out most of them, and again for each row of the other
 *		side of a nested loop.  In a window's terms (window), an
 *		uncorrelated scalar subquery read now (Q22's average balance) is
 *		read from its WITH query (scalar_value_sql), computed once for all
 *		the terms, not once in each.
 */
static char *
change_term_sql(DeparseMerge *b, SourceKind *kinds, bool negate, bool window)
{
	DtAnalysis *an = b->an;
	StringInfoData s;
	StringInfoData from;
	StringInfoData signs;
	StringInfoData where;
	StringInfoData deferred;
	StringInfoData outs;
	ListCell   *lc;
	int			i;

	initStringInfo(&s);
	initStringInfo(&from);
	initStringInfo(&signs);
	initStringInfo(&where);
	initStringInfo(&deferred);
	initStringInfo(&outs);
	if (an->quals != NULL)
		appendStringInfoString(&where, expr_sql((Expr *) an->quals, b->from_ctx));
	foreach(lc, an->from)
	{
		DtFromRel  *rel = (DtFromRel *) lfirst(lc);
		SourceKind	kind = kinds[foreach_current_index(lc)];
		char	   *sign = NULL;

		Assert(rel->semi == NULL || kind != SOURCE_BEFORE);
		if (rel->semi != NULL && kind != SOURCE_CHANGES && rel->semi->eval != NULL &&
			correlated_sublink_walker(rel->semi->predicate, NULL))
			appendStringInfo(&deferred, "%s(%s)", deferred.len > 0 ? " AND " : "",
							 expr_sql((Expr *) rel->semi->predicate, b->from_ctx));
		else if (rel->semi != NULL && kind == SOURCE_NOW && window && scalar_value(rel))
		{
			appendStringInfo(&where, "%s%s", where.len > 0 ? " AND " : "",
							 expr_sql((Expr *) rel->semi->join_quals, b->from_ctx));
			appendStringInfo(&from, "%s" SCALAR_VALUE_CTE "%u t%u", from.len > 0 ? ", " : "",
							 rel->rtindex, rel->rtindex);
		}
		else if (rel->semi != NULL && kind == SOURCE_CHANGES && rel->semi->scalar)
			appendStringInfo(&where, "%s%s", where.len > 0 ? " AND " : "", scalar_change_sql(b, rel, &sign));
		else if (rel->semi != NULL)
			appendStringInfo(&where, "%s%s", where.len > 0 ? " AND " : "",
							 expr_sql((Expr *) (kind == SOURCE_CHANGES ? rel->semi->join_quals : rel->semi->predicate),
									  b->from_ctx));
		if (!read_as(rel, kind))
			continue;
		if (sign != NULL)
			appendStringInfo(&signs, "%s%s", signs.len > 0 ? " * " : "", sign);
		else
			appendStringInfo(&signs, "%st%u." DT_COL_SIGN, signs.len > 0 ? " * " : "", rel->rtindex);
		if (rel->semi != NULL)
			appendStringInfo(&from, "%s" SEMI_CHANGES_CTE "%u t%u", from.len > 0 ? ", " : "",
							 rel->rtindex, rel->rtindex);
		else
			appendStringInfo(&from, "%s%s", from.len > 0 ? ", " : "", source_sql(rel, kind));
	}
	appendStringInfo(&s, "SELECT (%s%s)::smallint AS " DT_COL_SIGN ", ROW(", negate ? "- " : "", signs.data);
	i = 0;
	foreach(lc, an->keys)
		appendStringInfo(&s, "%s%s", i++ > 0 ? ", " : "",
						 set_key_sql(an, (DtKey *) lfirst(lc), expr_sql(((DtKey *) lfirst(lc))->expr, b->from_ctx)));
	if (an->grouping_sets != NIL)
		appendStringInfo(&s, ", %s", grouping_sets_values_sql(an, &from));
	appendStringInfo(&s, ")::%s AS key", b->keytype);
	appendStringInfoString(&outs, DT_COL_SIGN ", key");
	i = 0;
	foreach(lc, an->input_exprs)
	{
		appendStringInfo(&s, ", %s AS x%d", expr_sql((Expr *) lfirst(lc), b->from_ctx), ++i);
		appendStringInfo(&outs, ", x%d", i);
	}
	i = 0;
	foreach(lc, an->filter_exprs)
	{
		appendStringInfo(&s, ", %s AS f%d", expr_sql((Expr *) lfirst(lc), b->from_ctx), ++i);
		appendStringInfo(&outs, ", f%d", i);
	}
	if (deferred.len > 0)
		appendStringInfo(&s, ", %s AS dt$keep", deferred.data);
	appendStringInfo(&s, " FROM %s", from.data);
	if (where.len > 0)
		appendStringInfo(&s, " WHERE %s", where.data);
	if (deferred.len > 0)
		return psprintf("SELECT %s FROM (%s OFFSET 0) dt$t WHERE dt$t.dt$keep", outs.data, s.data);
	return s.data;
}

/*
 * A term of the change of a join (change_terms): how each relation is
 * read, and whether the term counts negatively.
 */
typedef struct ChangeTerm
{
	int			lead;			/* the relation i of the sum */
	SourceKind *kinds;
	bool		negate;
} ChangeTerm;

/*
 * change_terms
 *		The terms whose signed sum is the change of the join of rels (of
 *		DtFromRel) in a window that changed the inputs "changed" (relids),
 *		as a List of ChangeTerm.  With R' for R before the window and dR for
 *		its changes, the change of R1 x ... x Rn is the sum over the changed
 *		Ri of  R1 x ... x R(i-1) x dRi x R(i+1)' x ... x Rn'  (relations
 *		before i as they are now, those after it as before; an unchanged
 *		relation is the same before and now).  R' = R - dR: for the first
 *		MAX_EXPANDED changed relations it is expanded, so that a term reads
 *		tables as they are now (their indexes and statistics) and change
 *		windows (small), and no union of both is probed per row; the terms
 *		with an even number of such dR count negatively.  The others are
 *		read as R' (SOURCE_BEFORE).  The relation with range table index
 *		unchanged_rtindex (0: none) counts as unchanged.
 */
static List *
change_terms(List *rels, List *changed, Index unchanged_rtindex)
{
	int			n = list_length(rels);
	bool	   *is_changed = palloc0(sizeof(bool) * Max(n, 1));
	bool	   *expanded = palloc0(sizeof(bool) * Max(n, 1));
	List	   *terms = NIL;
	int			nexpanded = 0;
	int			i;
	int			j;

	for (j = 0; j < n; j++)
	{
		DtFromRel  *rel = (DtFromRel *) list_nth(rels, j);

		is_changed[j] = rel->rtindex != unchanged_rtindex && rel->input != NULL &&
			list_member_oid(changed, rel->input->relid);
		expanded[j] = is_changed[j] && nexpanded++ < MAX_EXPANDED;
	}
	for (i = 0; i < n; i++)
	{
		int			later[MAX_EXPANDED];
		int			nlater = 0;
		int			mask;

		if (!is_changed[i])
			continue;
		for (j = i + 1; j < n; j++)
		{
			if (expanded[j])
				later[nlater++] = j;
		}
		/* each subset of the expanded relations after i read as dR */
		for (mask = 0; mask < (1 << nlater); mask++)
		{
			ChangeTerm *term = palloc(sizeof(ChangeTerm));
			int			k;

			term->lead = i;
			term->kinds = palloc(sizeof(SourceKind) * n);
			term->negate = false;
			for (j = 0; j < n; j++)
				term->kinds[j] = j == i ? SOURCE_CHANGES
					: j < i || !is_changed[j] || expanded[j] ? SOURCE_NOW : SOURCE_BEFORE;
			for (k = 0; k < nlater; k++)
			{
				if (mask & (1 << k))
				{
					term->kinds[later[k]] = SOURCE_CHANGES;
					term->negate = !term->negate;
				}
			}
			terms = lappend(terms, term);
		}
	}
	return terms;
}

/*
 * append_terms
 *		Append the term of change rows whose relations are read as kinds
 *		say, negated if negate, to s: D of a semi-join read as it was (from
 *		index "from" on) is read as D now minus D's change, two terms.
 */
static void
append_terms(DeparseMerge *b, SourceKind *kinds, int from, bool negate, StringInfo s)
{
	int			j;

	for (j = from; j < list_length(b->an->from); j++)
	{
		if (kinds[j] == SOURCE_BEFORE && ((DtFromRel *) list_nth(b->an->from, j))->semi != NULL)
		{
			kinds[j] = SOURCE_NOW;
			append_terms(b, kinds, j + 1, negate, s);
			kinds[j] = SOURCE_CHANGES;
			append_terms(b, kinds, j + 1, !negate, s);
			kinds[j] = SOURCE_BEFORE;
			return;
		}
	}
	appendStringInfo(s, "%s%s", s->len > 0 ? " UNION ALL " : "", change_term_sql(b, kinds, negate, true));
}

/*
 * reads_only
 *		Does node read, of relation rtindex, only columns of cols (offset by
 *		FirstLowInvalidHeapAttributeNumber), its subqueries included?
 */
static bool
reads_only(Node *node, Index rtindex, Bitmapset *cols)
{
	Bitmapset  *attnums = NULL;

	querytree_varattnos(node, rtindex, &attnums);
	return bms_is_subset(attnums, cols);
}

/*
 * own_quals_sql
 *		The conditions of the query's WHERE that read only relation rel
 *		(and no subquery, no volatile function), as SQL over "t<rtindex>",
 *		each after " AND ": those that read only columns of keycols if
 *		on_key, the others if not.
 */
static char *
own_quals_sql(DeparseMerge *b, DtFromRel *rel, Bitmapset *keycols, bool on_key)
{
	StringInfoData s;
	ListCell   *lc;

	initStringInfo(&s);
	foreach(lc, make_ands_implicit((Expr *) b->an->quals))
	{
		Node	   *qual = (Node *) lfirst(lc);
		Relids		varnos = pull_varnos(NULL, qual);

		if (bms_membership(varnos) == BMS_SINGLETON && bms_singleton_member(varnos) == (int) rel->rtindex &&
			!checkExprHasSubLink(qual) && !contain_volatile_functions(qual) &&
			reads_only(qual, rel->rtindex, keycols) == on_key)
			appendStringInfo(&s, " AND (%s)", expr_sql((Expr *) qual, b->from_ctx));
	}
	return s.data;
}

/*
 * semi_others_sql
 *		The conditions that the other semi-joins of the FROM list put on
 *		a row of outer, their predicates over outer alone, each after
 *		" AND ", as they hold now or held before the window: the predicate
 *		now, or its key among the changed keys of D' (which come first in
 *		the WITH list, before rel's, or the condition is left out).  Those
 *		that read only outer's columns of keycols if on_key, the others if
 *		not.
 */
static char *
semi_others_sql(DeparseMerge *b, DtFromRel *rel, DtFromRel *outer, List *changed,
				Bitmapset *keycols, bool on_key)
{
	StringInfoData s;
	ListCell   *lc;
	bool		before_rel = true;

	initStringInfo(&s);
	foreach(lc, b->an->from)
	{
		DtFromRel  *other = (DtFromRel *) lfirst(lc);
		Relids		varnos;
		bool		other_changed;

		if (other == rel)
			before_rel = false;
		if (other->semi == NULL || other == rel)
			continue;
		varnos = bms_del_member(pull_varnos(NULL, other->semi->join_quals), other->rtindex);
		if (!bms_equal(varnos, bms_make_singleton(outer->rtindex)) ||
			!bms_equal(pull_varnos(NULL, other->semi->predicate), bms_make_singleton(outer->rtindex)))
			continue;
		other_changed = list_member_oid(changed, other->input->relid);
		if (other_changed && !before_rel)
			continue;
		if ((reads_only(other->semi->predicate, outer->rtindex, keycols) &&
			 (!other_changed || reads_only(other->semi->join_quals, outer->rtindex, keycols))) != on_key)
			continue;
		appendStringInfo(&s, " AND ((%s)", expr_sql((Expr *) other->semi->predicate, b->from_ctx));
		if (other_changed)
			appendStringInfo(&s, " OR EXISTS (SELECT FROM " SEMI_CHANGES_CTE "%u t%u WHERE %s)",
							 other->rtindex, other->rtindex, changed_quals_sql(b, other));
		appendStringInfoChar(&s, ')');
	}
	return s.data;
}

/*
 * key_column
 *		Is the condition "a = k" of a key k of D on column a of relation
 *		outer one by which a's value is k's, the same bytes: a column of
 *		outer, of k's type and type modifier, compared by the equality of
 *		the type's default btree operator class, under which equal values
 *		are identical (equal_means_identical)?  Then every condition on a
 *		alone holds of k as it holds of a.
 */
static bool
key_column(OpExpr * op, Var *k, DtFromRel *outer)
{
	Var		   *a = (Var *) linitial(op->args);
	Oid			opclass;

	if (!IsA(a, Var) || a->varno != outer->rtindex || a->varlevelsup != 0 || a->varattno <= 0 ||
		outer->constant != NULL || a->vartype != k->vartype || a->vartypmod != k->vartypmod)
		return false;
	opclass = GetDefaultOpClass(a->vartype, BTREE_AM_OID);
	return OidIsValid(opclass) &&
		get_opfamily_member(get_opclass_family(opclass), a->vartype, a->vartype,
							BTEqualStrategyNumber) == op->opno &&
		equal_means_identical(a->vartype, a->vartypmod, op->inputcollid);
}

/*
 * semi_key_filter_sql
 *		For D of a semi-join: the keys of its change worth finding, as
 *		conditions on "x.k<i>", each after " AND ".  A
 *		key k of D joins the query's rows through conditions outer = k;
 *		where outer reads one relation R of the FROM list, a change of D
 *		at k can only reach a row of R, as it is now or as it was (a row of
 *		R now, or of its changes), with every such outer = k, R's own
 *		conditions and those of the other semi-joins on R alone
 *		(semi_others_sql): a key without such a row changes nothing.  The
 *		conditions on R's columns equal to keys alone (key_column) hold of
 *		the keys as of the rows: they are tested on the keys, for every D.
 *		A D evaluated per key (DtSemiJoin's eval) is evaluated only for the
 *		keys with such a row (TPC-H's Q17 evaluates its subquery for the
 *		few parts of one brand and container, Q20's for the part-suppliers
 *		of the forest parts, not for every part of the changed lineitems),
 *		R now and its changes probed apart, so that R's index finds the
 *		row, and only for the keys that pass the conditions on the keys,
 *		tested first in a CASE, whose order the planner keeps (Q20's forest
 *		parts before their part-suppliers).  Another D's change is a probe
 *		of its table per key, which a probe of R would not spare.
 */
static char *
semi_key_filter_sql(DeparseMerge *b, DtFromRel *rel, List *changed)
{
	StringInfoData s;
	ListCell   *lr;

	initStringInfo(&s);
	foreach(lr, b->an->from)
	{
		DtFromRel  *outer = (DtFromRel *) lfirst(lr);
		StringInfoData match;
		StringInfoData keyrow;
		Bitmapset  *keycols = NULL;
		char	   *on_key;
		ListCell   *lc;

		if (outer->semi != NULL)
			continue;
		initStringInfo(&match);
		initStringInfo(&keyrow);
		foreach(lc, make_ands_implicit((Expr *) rel->semi->join_quals))
		{
			OpExpr	   *op = (OpExpr *) lfirst(lc);
			Var		   *k;
			Relids		varnos;

			if (!IsA(op, OpExpr) || list_length(op->args) != 2 || !IsA(lsecond(op->args), Var))
				continue;
			k = (Var *) lsecond(op->args);
			if (k->varno != rel->rtindex || k->varattno > list_length(rel->semi->inner_keys))
				continue;
			varnos = pull_varnos(NULL, linitial(op->args));
			if (bms_membership(varnos) != BMS_SINGLETON ||
				bms_singleton_member(varnos) != (int) outer->rtindex)
				continue;
			appendStringInfo(&match, "%s(%s) %s x.k%d", match.len > 0 ? " AND " : "",
							 expr_sql((Expr *) linitial(op->args), b->from_ctx),
							 operator_name_sql(op->opno), k->varattno);
			if (key_column(op, k, outer) &&
				!bms_is_member(((Var *) linitial(op->args))->varattno - FirstLowInvalidHeapAttributeNumber,
							   keycols))
			{
				keycols = bms_add_member(keycols, ((Var *) linitial(op->args))->varattno -
										 FirstLowInvalidHeapAttributeNumber);
				appendStringInfo(&keyrow, "%sx.k%d AS %s", keyrow.len > 0 ? ", " : "", k->varattno,
								 column_name(outer, ((Var *) linitial(op->args))->varattno));
			}
		}
		if (match.len == 0)
			continue;

		/*
		 * The conditions on key columns alone hold of the key as of the row:
		 * tested on the key first, they spare the probes of R for the keys
		 * they refuse (Q20's forest parts, before its part-suppliers)
		 */
		on_key = psprintf("%s%s", own_quals_sql(b, outer, keycols, true),
						  semi_others_sql(b, rel, outer, changed, keycols, true));
		if (rel->semi->eval == NULL)
		{
			if (on_key[0] != '\0')
				appendStringInfo(&s, " AND EXISTS (SELECT FROM (SELECT %s) t%u WHERE true%s)",
								 keyrow.data, outer->rtindex, on_key);
			continue;
		}
		if (on_key[0] != '\0')
			appendStringInfo(&s, " AND CASE WHEN EXISTS (SELECT FROM (SELECT %s) t%u WHERE true%s) THEN",
							 keyrow.data, outer->rtindex, on_key);
		else
			appendStringInfoString(&s, " AND");
		appendStringInfo(&match, "%s%s", own_quals_sql(b, outer, keycols, false),
						 semi_others_sql(b, rel, outer, changed, keycols, false));
		appendStringInfo(&s, " (EXISTS (SELECT FROM %s WHERE %s)", source_sql(outer, SOURCE_NOW), match.data);
		if (outer->constant == NULL && list_member_oid(changed, outer->input->relid))
			appendStringInfo(&s, " OR EXISTS (SELECT FROM %s WHERE %s)",
							 source_sql(outer, SOURCE_CHANGES), match.data);
		appendStringInfoString(&s, on_key[0] != '\0' ? ") END" : ")");
	}
	return s.data;
}

/*
 * semi_changes_ctes_sql
 *		The changes of D of every semi-join whose table the window changed,
 *		each a materialized WITH query "dt$d<rtindex>" after the change
 *		windows of changes_cte_sql (", " before each): computed once
 *		however many terms read it; and the value now of every
 *		uncorrelated scalar subquery (scalar_value), "dt$v<rtindex>",
 *		which the terms that read D now join in place of the subquery:
 *		where its table changed, the new value of D's change, evaluated
 *		again only where it has none (the value did not change, or is
 *		NULL).
 */
static char *
semi_changes_ctes_sql(DeparseMerge *b, List *changed)
{
	StringInfoData s;
	ListCell   *lc;

	initStringInfo(&s);
	foreach(lc, b->an->from)
	{
		DtFromRel  *rel = (DtFromRel *) lfirst(lc);

		if (rel->semi != NULL && list_member_oid(changed, rel->input->relid))
			appendStringInfo(&s, ", " SEMI_CHANGES_CTE "%u AS MATERIALIZED (%s)", rel->rtindex,
							 semi_changes_sql(rel, semi_key_filter_sql(b, rel, changed)));
		if (scalar_value(rel) && list_member_oid(changed, rel->input->relid))
			appendStringInfo(&s, ", " SCALAR_VALUE_CTE "%u AS MATERIALIZED (SELECT COALESCE((SELECT d.v FROM "
							 SEMI_CHANGES_CTE "%u d), (%s)) AS v)", rel->rtindex, rel->rtindex,
							 settings_print_query(rel->semi->sub));
		else if (scalar_value(rel))
			appendStringInfo(&s, ", " SCALAR_VALUE_CTE "%u AS MATERIALIZED (SELECT (%s) AS v)", rel->rtindex,
							 settings_print_query(rel->semi->sub));
	}
	return s.data;
}

/*
 * change_rows_sql
 *		W, the change rows: of a rebuild (every relation as it is now), or of
 *		a refresh whose window changed the relations of inputs "changed"
 *		(relids): the terms of change_terms, each window read once.  Signs
 *		multiply, so rows counted twice cancel in the merge.  D of a
 *		semi-join is read as its change (semi_changes_sql) or now (its
 *		predicate); as it was, it is now minus its change (append_terms,
 *		for the D change_terms leaves "before").
 */
static char *
change_rows_sql(DeparseMerge *b, bool from_base, List *changed)
{
	int			n = list_length(b->an->from);
	StringInfoData u;
	List	   *terms;
	ListCell   *lc;

	if (from_base)
	{
		SourceKind *kinds = palloc(sizeof(SourceKind) * n);
		int			j;

		for (j = 0; j < n; j++)
			kinds[j] = SOURCE_NOW;
		return change_term_sql(b, kinds, false, false);
	}
	terms = change_terms(b->an->from, changed, 0);
	if (terms == NIL)
		elog(ERROR, "no relation of the dynamic table's FROM list changed");
	initStringInfo(&u);
	foreach(lc, terms)
	{
		ChangeTerm *term = (ChangeTerm *) lfirst(lc);

		append_terms(b, term->kinds, 0, term->negate, &u);
	}
	return psprintf("%s%s %s", changes_cte_sql(b->an->from, changed), semi_changes_ctes_sql(b, changed), u.data);
}

/* ---------------------------------------------------------------------
 * Output expressions over the final view
 * ---------------------------------------------------------------------
 */

/*
 * key_field
 *		If node is a group key of the defining query, read from levelsup
 *		levels below the grouped level, the same key as a field of column
 *		key (the second) of relation 1 there: the final view "f", or the
 *		state; else NULL.
 */
static Node *
key_field(DeparseMerge *b, Node *node, int levelsup)
{
	ListCell   *lc;

	foreach(lc, b->an->keys)
	{
		DtKey	   *key = (DtKey *) lfirst(lc);
		Node	   *expr = (Node *) key->expr;

		if (levelsup > 0)
		{
			expr = copyObject(expr);
			IncrementVarSublevelsUp(expr, levelsup, 0);
		}
		if (equal(expr, node))
		{
			FieldSelect *fs = makeNode(FieldSelect);

			fs->arg = (Expr *) makeVar(1, 2, b->key_typid, -1, InvalidOid, levelsup);
			fs->fieldnum = foreach_current_index(lc) + 1;
			fs->resulttype = key->type;
			fs->resulttypmod = key->typmod;
			fs->resultcollid = key->collation;
			return (Node *) fs;
		}
	}
	return NULL;
}

/* The walk of outer_keys_mutator: the levels below the grouped level. */
typedef struct OuterKeys
{
	DeparseMerge *b;
	int			levelsup;
} OuterKeys;

/*
 * outer_keys_mutator
 *		A subquery of one group (DT_AGG_RANKED) with the group key it is
 *		correlated by read from the state row (key_field).
 */
static Node *
outer_keys_mutator(Node *node, OuterKeys *ctx)
{
	Node	   *field;

	if (node == NULL)
		return NULL;
	if (IsA(node, Query))
	{
		Query	   *query;

		ctx->levelsup++;
		query = query_tree_mutator((Query *) node, outer_keys_mutator, ctx, 0);
		ctx->levelsup--;
		return (Node *) query;
	}
	if (ctx->levelsup > 0 && (field = key_field(ctx->b, node, ctx->levelsup)) != NULL)
		return field;
	return expression_tree_mutator(node, outer_keys_mutator, ctx);
}

/*
 * same_ranked_rows
 *		Do two subqueries of one group (DT_AGG_RANKED) aggregate the same
 *		rows, differing only in their one output?
 */
static bool
same_ranked_rows(DtAggregate *a1, DtAggregate *a2)
{
	Query	   *q1 = copyObject(castNode(Query, castNode(SubLink, a1->ranked)->subselect));
	Query	   *q2 = copyObject(castNode(Query, castNode(SubLink, a2->ranked)->subselect));
	ListCell   *l1;
	ListCell   *l2;

	if (q1->sortClause != NIL || q2->sortClause != NIL ||
		list_length(q1->targetList) != 1 || list_length(q2->targetList) != 1)
		return false;
	q1->targetList = NIL;
	q2->targetList = NIL;
	/* which columns of its FROM items each output reads */
	forboth(l1, q1->rtable, l2, q2->rtable)
	{
		lfirst_node(RangeTblEntry, l1)->selectedCols = NULL;
		lfirst_node(RangeTblEntry, l2)->selectedCols = NULL;
	}
	return equal(q1, q2);
}

/*
 * ranked_set_sql
 *		"a<i>_v = (SELECT ...)" for every aggregate over a group's first
 *		rows, computed again for the state rows "state_alias"; "" if none.
 *		The aggregates over the same rows (seed 000's count, and averages
 *		of two columns, of a template's ten latest runs) are one subquery
 *		with an output each, "(a<i>_v, a<j>_v) = (SELECT ...)": the rows
 *		are read once per group, not once per aggregate.
 */
static char *
ranked_set_sql(DeparseMerge *b, const char *state_alias)
{
	StringInfoData s;
	List	   *ctx = deparse_context_for(state_alias, names_internal_relid(DT_OBJECT_STATE, b->dtrelid, 0));
	List	   *done = NIL;
	ListCell   *lc;

	initStringInfo(&s);
	foreach(lc, b->an->aggregates)
	{
		DtAggregate *agg = (DtAggregate *) lfirst(lc);
		OuterKeys	walk = {b, 0};
		SubLink    *sublink;
		Query	   *query;
		StringInfoData cols;
		ListCell   *lo;

		if (agg->kind != DT_AGG_RANKED || list_member_ptr(done, agg))
			continue;
		sublink = copyObject(castNode(SubLink, agg->ranked));
		query = castNode(Query, sublink->subselect);
		initStringInfo(&cols);
		appendStringInfo(&cols, "a%d_v", agg->no);
		for_each_cell(lo, b->an->aggregates, lnext(b->an->aggregates, lc))
		{
			DtAggregate *other = (DtAggregate *) lfirst(lo);
			TargetEntry *tle;

			if (other->kind != DT_AGG_RANKED || !same_ranked_rows(agg, other))
				continue;
			tle = copyObject(linitial_node(TargetEntry, castNode(Query, castNode(SubLink, other->ranked)->subselect)->targetList));
			tle->resno = list_length(query->targetList) + 1;
			query->targetList = lappend(query->targetList, tle);
			appendStringInfo(&cols, ", a%d_v", other->no);
			done = lappend(done, other);
		}
		appendStringInfo(&s, list_length(query->targetList) > 1 ? "%s(%s) = %s" : "%s%s = %s",
						 s.len > 0 ? ", " : "", cols.data,
						 expr_sql((Expr *) outer_keys_mutator((Node *) sublink, &walk), ctx));
	}
	return s.data;
}

/*
 * grouping_value
 *		GROUPING(...) over the final view "f": a constant in each grouping
 *		set, whose bit for an argument (the last argument's the lowest) is
 *		1 where the set does not have it; CASE over the set's number.
 */
static Node *
grouping_value(DeparseMerge *b, GroupingFunc * gf)
{
	CaseExpr   *result = makeNode(CaseExpr);
	FieldSelect *set_no = makeNode(FieldSelect);
	ListCell   *lc;

	/* a plain GROUP BY: one grouping set, with every key */
	if (b->an->grouping_sets == NIL)
		return (Node *) makeConst(INT4OID, -1, InvalidOid, sizeof(int32), Int32GetDatum(0), false, true);
	set_no->arg = (Expr *) makeVar(1, 2, b->key_typid, -1, InvalidOid, 0);
	set_no->fieldnum = list_length(b->an->keys) + 1;
	set_no->resulttype = INT4OID;
	set_no->resulttypmod = -1;
	set_no->resultcollid = InvalidOid;
	result->casetype = INT4OID;
	result->defresult = (Expr *) makeNullConst(INT4OID, -1, InvalidOid);
	foreach(lc, b->an->grouping_sets)
	{
		CaseWhen   *when = makeNode(CaseWhen);
		int			value = 0;
		ListCell   *lr;

		foreach(lr, gf->refs)
			value = (value << 1) | (bms_is_member(lfirst_int(lr), (Bitmapset *) lfirst(lc)) ? 0 : 1);
		when->expr = make_opclause(Int4EqualOperator, BOOLOID, false, (Expr *) copyObject(set_no),
								   (Expr *) makeConst(INT4OID, -1, InvalidOid, sizeof(int32),
													  Int32GetDatum(foreach_current_index(lc) + 1), false, true),
								   InvalidOid, InvalidOid);
		set_opfuncid((OpExpr *) when->expr);
		when->result = (Expr *) makeConst(INT4OID, -1, InvalidOid, sizeof(int32), Int32GetDatum(value), false, true);
		result->args = lappend(result->args, when);
	}
	return (Node *) result;
}

/*
 * to_final_mutator
 *		Rewrite an output or HAVING expression of the defining query into one
 *		over the final view "f": group keys become fields of f.key, aggregates
 *		become the columns a<i>.
 */
static Node *
to_final_mutator(Node *node, DeparseMerge *b)
{
	ListCell   *lc;
	Node	   *field;

	if (node == NULL)
		return NULL;
	if ((field = key_field(b, node, 0)) != NULL)
		return field;
	if (IsA(node, GroupingFunc))
		return grouping_value(b, (GroupingFunc *) node);
	if (IsA(node, Aggref) || IsA(node, SubLink))
	{
		foreach(lc, b->an->aggregates)
		{
			DtAggregate *agg = (DtAggregate *) lfirst(lc);

			if (equal(agg->aggref, node) || equal(agg->ranked, node))
				return (Node *) makeVar(1, 3 + agg->no, agg->restype, agg->restypmod,
										exprCollation(node), 0);
		}
		elog(ERROR, "aggregate not found in the analysis of the dynamic table");
	}
	return expression_tree_mutator(node, to_final_mutator, b);
}

/* final_expr_sql: an expression of the query, deparsed over "f". */
static char *
final_expr_sql(DeparseMerge *b, Node *expr)
{
	return settings_print_expression(to_final_mutator(expr, b), b->final_ctx, true);
}

/* output_list_sql: the DT's columns computed from "f". */
static char *
output_list_sql(DeparseMerge *b)
{
	StringInfoData s;
	ListCell   *lc;

	initStringInfo(&s);
	foreach(lc, b->an->query->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (tle->resjunk)
			continue;
		appendStringInfo(&s, "%s%s", s.len > 0 ? ", " : "", final_expr_sql(b, (Node *) tle->expr));
	}
	return s.data;
}

/*
 * nonempty_sql
 *		Does group "alias" of the state (or the final view) exist: it has
 *		rows, or it is the group of the empty grouping set, which has a row
 *		over no rows too.
 */
static char *
nonempty_sql(DeparseMerge *b, const char *alias)
{
	if (b->an->empty_set == 0)
		return psprintf("%s.n > 0", alias);
	return psprintf("(%s.n > 0 OR (%s.key).gs = %d)", alias, alias, b->an->empty_set);
}

/* keep_sql: does a group have a row in the DT (it exists and passes HAVING)? */
static char *
keep_sql(DeparseMerge *b)
{
	char	   *having = b->an->query->havingQual
	? psprintf("COALESCE(%s, false)", final_expr_sql(b, b->an->query->havingQual))
	: "true";

	if (b->an->keys == NIL)
		return having;
	return psprintf("(%s AND %s)", nonempty_sql(b, "f"), having);
}

/* is_top_k: does the query end in ORDER BY ... LIMIT/OFFSET (merge.c)? */
static bool
is_top_k(DtAnalysis *an)
{
	return an->query->limitCount != NULL || an->query->limitOffset != NULL;
}

/*
 * order_limit_sql
 *		The query's ORDER BY, over "f" as output expressions are, with its
 *		LIMIT and OFFSET (constant expressions); "" unless is_top_k.  Rows
 *		that tie at the cut are taken as PostgreSQL takes them, any of them.
 */
static char *
order_limit_sql(DeparseMerge *b)
{
	Query	   *query = b->an->query;
	StringInfoData s;
	ListCell   *lc;

	if (!is_top_k(b->an))
		return "";
	initStringInfo(&s);
	foreach(lc, query->sortClause)
	{
		SortGroupClause *sgc = lfirst_node(SortGroupClause, lc);

		appendStringInfo(&s, "%s(%s) USING %s NULLS %s", s.len > 0 ? ", " : " ORDER BY ",
						 final_expr_sql(b, get_sortgroupclause_expr(sgc, query->targetList)),
						 operator_name_sql(sgc->sortop), sgc->nulls_first ? "FIRST" : "LAST");
	}
	if (query->limitOffset != NULL)
		appendStringInfo(&s, " OFFSET (%s)", expr_sql((Expr *) query->limitOffset, NIL));
	if (query->limitCount != NULL && query->limitOption == LIMIT_OPTION_WITH_TIES)
		appendStringInfo(&s, " FETCH FIRST (%s) ROWS WITH TIES", expr_sql((Expr *) query->limitCount, NIL));
	else if (query->limitCount != NULL)
		appendStringInfo(&s, " LIMIT (%s)", expr_sql((Expr *) query->limitCount, NIL));
	return s.data;
}

/* ---------------------------------------------------------------------
 * Refresh statements
 * ---------------------------------------------------------------------
 */

/* aux_item_sql: the value an item of an auxiliary table counts, of change row "w". */
static char *
aux_item_sql(DtAuxItem *item)
{
	if (item->filter_no > 0)
		return psprintf("CASE WHEN w.f%d THEN w.x%d END", item->filter_no, item->input_no);
	return psprintf("w.x%d", item->input_no);
}

/* aux_values_sql: LATERAL VALUES unpivoting the items of an auxiliary table. */
static char *
aux_values_sql(DtAuxTable *aux)
{
	StringInfoData s;
	ListCell   *lc;

	initStringInfo(&s);
	appendStringInfoString(&s, "CROSS JOIN LATERAL (VALUES ");
	foreach(lc, aux->items)
	{
		DtAuxItem  *item = (DtAuxItem *) lfirst(lc);

		appendStringInfo(&s, "%s(%d::smallint, %s)", item->j > 1 ? ", " : "", item->j, aux_item_sql(item));
	}
	appendStringInfoString(&s, ") AS u(j, v)");
	return s.data;
}

/* aggregates_of: the aggregates of given kinds, on auxiliary table aux_no (0: any). */
static List *
aggregates_of(DtAnalysis *an, int aux_no, DtAggKind kind1, DtAggKind kind2)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, an->aggregates)
	{
		DtAggregate *agg = (DtAggregate *) lfirst(lc);

		if ((aux_no == 0 || agg->aux_no == aux_no) && (agg->kind == kind1 || agg->kind == kind2))
			result = lappend(result, agg);
	}
	return result;
}

/*
 * minmax_merge_columns
 *		The min and max of a merge, as columns of its state upsert: the
 *		extreme of the current one and of the values the window adds.  It is
 *		the group's new extreme when the window removes nothing from the
 *		group; otherwise apply reads it again from the value counts
 *		(minmax_set_sql), which this saves for groups that only grew.
 */
static List *
minmax_merge_columns(DtAnalysis *an)
{
	List	   *cols = NIL;
	ListCell   *lc;

	foreach(lc, an->aggregates)
	{
		DtAggregate *agg = (DtAggregate *) lfirst(lc);
		AddColumn  *col;
		const char *fn;

		if (agg->kind != DT_AGG_MIN && agg->kind != DT_AGG_MAX)
			continue;
		fn = agg->kind == DT_AGG_MIN ? "min" : "max";
		col = palloc0(sizeof(AddColumn));
		col->name = psprintf("a%d_m", agg->no);
		col->delta = psprintf("%s(w.x%d%s) FILTER (WHERE w." DT_COL_SIGN " > 0 AND %s)",
							  fn, agg->input_no, collate_sql(agg->argcollation), cond_sql(agg));
		col->merge = psprintf("%s(s.%s, excluded.%s)", agg->kind == DT_AGG_MIN ? "LEAST" : "GREATEST",
							  col->name, col->name);
		cols = lappend(cols, col);
	}
	return cols;
}

/*
 * key_fields_sql
 *		The fields of the key of change rows "w", (w.key).k1, ..., and the
 *		grouping set's number: a rebuild groups by them, and forms the key
 *		once per group, not a row per change row, hashed and compared as a
 *		record (30% less CPU in the rebuild of a join of 1M rows grouped by
 *		three text columns); the planner reads a field of a key formed in
 *		w's query (not materialized) as its expression.  The key type's
 *		fields have the key's collations, so the groups are those of the
 *		record.
 */
static char *
key_fields_sql(DeparseMerge *b)
{
	StringInfoData s;
	int			k;

	initStringInfo(&s);
	for (k = 1; k <= list_length(b->an->keys); k++)
		appendStringInfo(&s, "%s(w.key).k%d", k > 1 ? ", " : "", k);
	if (b->an->grouping_sets != NIL)
		appendStringInfoString(&s, ", (w.key).gs");
	return s.data;
}

/*
 * state_insert_sql
 *		Aggregate change rows "w" per group into the state: the INSERT of a
 *		rebuild (grouped by the key's fields, key_fields_sql), or (merge) the
 *		upsert of a refresh, which adds the deltas to groups that exist, with
 *		min and max (minmax_merge_columns), and returns the gid of every
 *		group touched and, of a merge, the values of its percentile cursors
 *		(which it does not change).
 */
static char *
state_insert_sql(DeparseMerge *b, bool merge)
{
	List	   *cols = additive_columns(b->an);
	StringInfoData s;
	ListCell   *lc;

	if (merge)
		cols = list_concat(cols, minmax_merge_columns(b->an));

	initStringInfo(&s);
	appendStringInfo(&s, "INSERT INTO %s AS s (key, n", b->state);
	foreach(lc, cols)
		appendStringInfo(&s, ", %s", ((AddColumn *) lfirst(lc))->name);
	appendStringInfoString(&s, ") SELECT ");
	if (b->an->keys == NIL)
		appendStringInfo(&s, "ROW()::%s", b->keytype);
	else if (merge)
		appendStringInfoString(&s, "w.key");
	else
		appendStringInfo(&s, "ROW(%s)::%s", key_fields_sql(b), b->keytype);
	appendStringInfoString(&s, ", COALESCE(sum(w." DT_COL_SIGN "), 0)");
	foreach(lc, cols)
		appendStringInfo(&s, ", %s", ((AddColumn *) lfirst(lc))->delta);
	appendStringInfoString(&s, " FROM w");
	if (b->an->keys != NIL)
		appendStringInfo(&s, " GROUP BY %s", merge ? "w.key" : key_fields_sql(b));
	if (merge)
	{
		appendStringInfoString(&s, " ON CONFLICT (key) DO UPDATE SET n = s.n + excluded.n");
		foreach(lc, cols)
		{
			AddColumn  *col = (AddColumn *) lfirst(lc);

			appendStringInfo(&s, ", %s = %s", col->name, col->merge);
		}
	}
	appendStringInfoString(&s, " RETURNING s.gid, s.key");
	if (merge)
	{
		foreach(lc, aggregates_of(b->an, 0, DT_AGG_PERCENTILE_CONT, DT_AGG_PERCENTILE_DISC))
			appendStringInfo(&s, ", s.a%d_cv", ((DtAggregate *) lfirst(lc))->no);
	}
	return s.data;
}

/* aux_item_of: the item of auxiliary table aux that aggregate agg counts. */
static DtAuxItem *
aux_item_of(DtAuxTable *aux, DtAggregate *agg)
{
	ListCell   *lc;

	foreach(lc, aux->items)
	{
		DtAuxItem  *item = (DtAuxItem *) lfirst(lc);

		if (item->j == agg->aux_item)
			return item;
	}
	elog(ERROR, "aggregate %d has no item %d in auxiliary table %d", agg->no, agg->aux_item, aux->no);
	return NULL;				/* keep compiler quiet */
}

/*
 * aux_merge_ctes
 *		The CTEs of merge_sql for one auxiliary table: "d<a>", the value
 *		count deltas of the change rows with their gids ("wg") per group,
 *		item and value, in index order (the btree is then walked from left
 *		to right); "n<a>", the deltas that lower a count, each with its
 *		value's row, found once, and the new count; of those, "z<a>"
 *		deletes the rows brought to zero and "m<a>" stores the others' new
 *		counts, both through the row's ctid; "u<a>" upserts the deltas that
 *		raise a count (inserting new values), and a lowering delta whose
 *		value has no row (which a correct state never has) as a row of its
 *		negative count, as the upsert of every delta did, so that the
 *		defect shows (dt_test.bad_value_counts) instead of the delta
 *		vanishing; and per group what merge returns about the aggregates
 *		that read it, which *joins joins to the groups touched: "x<a>", for
 *		count distinct, the values that appeared (no row before) or left
 *		(their count brought to zero), cd<i>; "y<a>", for a percentile, how
 *		many values changed below its cursor, lt<i>.  No row is left with a
 *		count of zero, so the table has no index on its counts and an
 *		update of a count can be a HOT update.
 *
 *		These CTEs are most of a refresh of seed 000's summary (six values
 *		a row: about three quarters of its CPU time under perf), and what
 *		they cost is the first read of each value's leaf and heap page, not
 *		the number of probes.  A lowered count was probed twice, by a
 *		delete of the rows brought to zero and then by the upsert of the
 *		others (a conflict check, a lock, an update): probed once, the
 *		summary's refresh of a window of 1,600 mixed transactions
 *		(bench/mixed.pgbench: an insert, an update and a delete each) over
 *		1M rows, after 40 seconds of them refreshed by the scheduler, takes
 *		5.2% fewer instructions (callgrind, 1.148 G to 1.089 G; its
 *		executor 7.7%), 8% for a window of 8,000, an insert window the
 *		same.  Probing every delta first, raised ones too, then updating
 *		through the ctids found and inserting the new values, took 5 to 10%
 *		more CPU time for insert batches of 200 to 20,000 rows over 1M rows
 *		(and 6% less for a mixed batch of 2,000): the upsert is the cheaper
 *		way to raise a count.  The order of d<a> is what helps: in a random
 *		order the upsert took 1.6 times as long.
 */
static void
aux_merge_ctes(DeparseMerge *b, DtAuxTable *aux, StringInfo s, StringInfo joins)
{
	int			a = aux->no;
	char	   *eq = operator_sql(aux->valtype, BTEqualStrategyNumber);
	char	   *lt = operator_sql(aux->valtype, BTLessStrategyNumber);
	char	   *table = names_internal_qualified(DT_OBJECT_AUX, b->dtrelid, a);
	List	   *distincts = aggregates_of(b->an, a, DT_AGG_COUNT_DISTINCT, DT_AGG_COUNT_DISTINCT);
	List	   *cursors = aggregates_of(b->an, a, DT_AGG_PERCENTILE_CONT, DT_AGG_PERCENTILE_DISC);
	ListCell   *lc;

	appendStringInfo(s,
					 ", d%d AS MATERIALIZED (SELECT w.gid, u.j, u.v, sum(w." DT_COL_SIGN ") AS dc FROM wg w "
					 "%s WHERE u.v IS NOT NULL "
					 "GROUP BY w.gid, u.j, u.v HAVING sum(w." DT_COL_SIGN ") <> 0 ORDER BY w.gid, u.j, u.v), "
					 "n%d AS MATERIALIZED (SELECT d.gid, d.j, d.v, d.dc, a.ctid AS t, a.c + d.dc AS c FROM d%d d "
					 "LEFT JOIN %s a ON a.gid = d.gid AND a.j = d.j AND a.v %s d.v WHERE d.dc < 0), "
					 "z%d AS (DELETE FROM %s a USING n%d n WHERE n.c = 0 AND a.ctid = n.t), "
					 "m%d AS (UPDATE %s a SET c = n.c FROM n%d n WHERE n.c <> 0 AND a.ctid = n.t), "
					 "u%d AS (INSERT INTO %s AS a (gid, j, v, c) SELECT d.gid, d.j, d.v, d.dc FROM d%d d "
					 "WHERE d.dc > 0 UNION ALL SELECT n.gid, n.j, n.v, n.dc FROM n%d n WHERE n.t IS NULL "
					 "ON CONFLICT (gid, j, v) DO UPDATE SET c = a.c + excluded.c)",
					 a, aux_values_sql(aux),
					 a, a, table, eq,
					 a, table, a,
					 a, table, a,
					 a, table, a, a);

	/*
	 * The table "o" is read as it was before the statement (every part of it
	 * has the same snapshot), one index probe per delta, where joining d with
	 * u's RETURNING was a nested loop over both, quadratic in the change.
	 */
	if (distincts != NIL)
	{
		appendStringInfo(s, ", x%d AS (SELECT d.gid", a);
		foreach(lc, distincts)
		{
			DtAggregate *agg = (DtAggregate *) lfirst(lc);

			appendStringInfo(s, ", sum(CASE WHEN o.c IS NULL THEN 1 WHEN o.c + d.dc = 0 THEN -1 ELSE 0 END) "
							 "FILTER (WHERE d.j = %d) AS cd%d", agg->aux_item, agg->no);
		}
		appendStringInfo(s, " FROM d%d d LEFT JOIN %s o ON o.gid = d.gid AND o.j = d.j AND o.v %s d.v GROUP BY d.gid)", a, table, eq);
		appendStringInfo(joins, " LEFT JOIN x%d ON x%d.gid = st.gid", a, a);
	}

	/*
	 * Counted in the change rows, with the cursors' values wg carries, not
	 * from d joined with the state: that probed the state once per delta
	 * (4,740 for 1,000 rows inserted into seed 000's summary), most of the
	 * pages the statement read.
	 */
	if (cursors != NIL)
	{
		appendStringInfo(s, ", y%d AS (SELECT w.gid", a);
		foreach(lc, cursors)
		{
			DtAggregate *agg = (DtAggregate *) lfirst(lc);

			appendStringInfo(s, ", sum(w." DT_COL_SIGN ") FILTER (WHERE %s %s w.a%d_cv) AS lt%d",
							 aux_item_sql(aux_item_of(aux, agg)), lt, agg->no, agg->no);
		}
		appendStringInfo(s, " FROM wg w GROUP BY w.gid)");
		appendStringInfo(joins, " LEFT JOIN y%d ON y%d.gid = st.gid", a, a);
	}
}

/*
 * merge_sql
 *		The first statement of an incremental refresh, one pass over the
 *		change window: its rows are aggregated into the state and counted
 *		into every auxiliary table (a value whose count reaches zero loses
 *		its row).  Returns one row per group
 *		touched, ordered by gid: the gid, then the merge columns (DtSql).
 */
static char *
merge_sql(DeparseMerge *b, List *changed)
{
	StringInfoData s;
	StringInfoData joins;
	ListCell   *lc;
	int			i;

	initStringInfo(&s);
	initStringInfo(&joins);
	appendStringInfo(&s, "WITH w AS MATERIALIZED (%s), st AS (%s)",
					 change_rows_sql(b, false, changed), state_insert_sql(b, true));

	/*
	 * The change rows with the gid of their group, for the auxiliary tables,
	 * and the values of its percentile cursors, done once, not once per
	 * table: through the key index of the state as the statement found it (a
	 * group keeps its gid, and the upsert changes no cursor), and from the
	 * upsert's rows only for a group it made.  A join of the change rows with
	 * the upsert's rows was planned from the estimates of both, a row each
	 * after the query's conditions: a nested loop that compared every change
	 * row with every group touched, composite key against composite key (100
	 * rows and 40 groups: a millisecond); the join condition g.gid IS NULL
	 * makes that comparison only for the rows of new groups.  Not a subquery
	 * per row: that scans the upsert's rows for each row of a new group
	 * (12000 new groups in a refresh took minutes).
	 */
	if (b->an->aux_tables != NIL)
	{
		appendStringInfoString(&s, ", wg AS MATERIALIZED (SELECT COALESCE(g.gid, n.gid) AS gid");
		foreach(lc, aggregates_of(b->an, 0, DT_AGG_PERCENTILE_CONT, DT_AGG_PERCENTILE_DISC))
		{
			int			no = ((DtAggregate *) lfirst(lc))->no;

			appendStringInfo(&s, ", CASE WHEN g.gid IS NOT NULL THEN g.a%d_cv ELSE n.a%d_cv END AS a%d_cv",
							 no, no, no);
		}
		appendStringInfo(&s, ", w.* FROM w LEFT JOIN %s g ON g.key = w.key"
						 " LEFT JOIN st n ON g.gid IS NULL AND n.key = w.key)", b->state);
	}
	foreach(lc, b->an->aux_tables)
		aux_merge_ctes(b, (DtAuxTable *) lfirst(lc), &s, &joins);
	for (i = 0; i < b->sql->nmerge_columns; i++)
	{
		/* per group, its change rows that remove (min and max have values) */
		if (b->sql->merge_columns[i].kind == DT_MERGE_REMOVALS && b->an->keys != NIL)
		{
			appendStringInfoString(&s, ", rm AS (SELECT w.gid, count(*) AS r FROM wg w WHERE w."
								   DT_COL_SIGN " < 0 GROUP BY w.gid)");
			appendStringInfoString(&joins, " LEFT JOIN rm ON rm.gid = st.gid");
		}
	}
	appendStringInfoString(&s, " SELECT st.gid");
	for (i = 0; i < b->sql->nmerge_columns; i++)
	{
		DtMergeColumn *col = &b->sql->merge_columns[i];

		switch (col->kind)
		{
			case DT_MERGE_DISTINCT_DELTA:
				appendStringInfo(&s, ", COALESCE(x%d.cd%d, 0)", col->agg->aux_no, col->agg->no);
				break;
			case DT_MERGE_RANK_SHIFT:
				appendStringInfo(&s, ", COALESCE(y%d.lt%d, 0)", col->agg->aux_no, col->agg->no);
				break;
			case DT_MERGE_REMOVALS:
				if (b->an->keys == NIL)
					appendStringInfoString(&s, ", (SELECT count(*) FROM w WHERE w." DT_COL_SIGN " < 0)");
				else
					appendStringInfoString(&s, ", COALESCE(rm.r, 0)");
				break;
		}
	}
	appendStringInfo(&s, " FROM st%s ORDER BY st.gid", joins.data);
	return s.data;
}

/*
 * cursor_read_sql
 *		For the groups $1, in gid order: the gid, then per cursor the
 *		columns of DtCursorColumn.
 */
static char *
cursor_read_sql(DeparseMerge *b)
{
	StringInfoData s;
	ListCell   *lc;

	if (b->sql->cursors == NIL)
		return NULL;
	initStringInfo(&s);
	appendStringInfoString(&s, "SELECT s.gid");
	foreach(lc, b->sql->cursors)
	{
		DtAggregate *agg = (DtAggregate *) lfirst(lc);
		DtCursorColumn col;

		for (col = 0; col < DT_CURSOR_NCOLUMNS; col++)
		{
			switch (col)
			{
				case DT_CURSOR_COUNT:
					appendStringInfo(&s, ", %s", aux_n(agg));
					break;
				case DT_CURSOR_VALUE:
					appendStringInfo(&s, ", s.a%d_cv", agg->no);
					break;
				case DT_CURSOR_BELOW:
					appendStringInfo(&s, ", s.a%d_lt", agg->no);
					break;
				case DT_CURSOR_EQUAL:
					appendStringInfo(&s, ", (SELECT a.c FROM %s a WHERE a.gid = s.gid AND a.j = %d "
									 "AND a.v %s s.a%d_cv)",
									 names_internal_qualified(DT_OBJECT_AUX, b->dtrelid, agg->aux_no),
									 agg->aux_item, operator_sql(agg->argtype, BTEqualStrategyNumber),
									 agg->no);
					break;
				case DT_CURSOR_NCOLUMNS:
					break;
			}
		}
	}
	appendStringInfo(&s, " FROM %s s WHERE s.gid = ANY ($1) ORDER BY s.gid", b->state);
	return s.data;
}

/*
 * minmax_set_sql
 *		"a<i>_m = (SELECT min(v) ...)" for every min/max aggregate, over
 *		state state_alias: read from the value counts; with removals (an
 *		expression, the group's change rows that remove), only where it is
 *		not 0, the merge having stored the extreme of a group that only grew.
 */
static char *
minmax_set_sql(DeparseMerge *b, const char *state_alias, const char *removals)
{
	StringInfoData s;
	ListCell   *lc;

	initStringInfo(&s);
	foreach(lc, b->an->aggregates)
	{
		DtAggregate *agg = (DtAggregate *) lfirst(lc);

		if (agg->kind != DT_AGG_MIN && agg->kind != DT_AGG_MAX)
			continue;
		appendStringInfo(&s, "%sa%d_m = ", s.len > 0 ? ", " : "", agg->no);
		if (removals != NULL)
			appendStringInfo(&s, "CASE WHEN %s = 0 THEN %s.a%d_m ELSE ", removals, state_alias, agg->no);
		appendStringInfo(&s, "(SELECT %s(a.v) FROM %s a WHERE a.gid = %s.gid AND a.j = %d)",
						 agg->kind == DT_AGG_MIN ? "min" : "max",
						 names_internal_qualified(DT_OBJECT_AUX, b->dtrelid, agg->aux_no), state_alias, agg->aux_item);
		if (removals != NULL)
			appendStringInfoString(&s, " END");
	}
	return s.data;
}

/*
 * key_match_sql
 *		DT row "d" has the group key "g": with_nulls, NULLs match NULLs;
 *		without, plain equality, which the DT's key index serves.
 */
static char *
key_match_sql(DeparseMerge *b, const char *d, const char *g, bool with_nulls)
{
	StringInfoData s;
	ListCell   *lc;
	int			k = 0;

	initStringInfo(&s);
	foreach(lc, b->an->keys)
	{
		DtKey	   *key = (DtKey *) lfirst(lc);
		const char *col = quote_identifier(get_tle_by_resno(b->an->query->targetList, key->resno)->resname);

		k++;
		if (with_nulls)
			appendStringInfo(&s, "%s(%s.%s %s (%s).k%d OR (%s.%s IS NULL AND (%s).k%d IS NULL))",
							 k > 1 ? " AND " : "", d, col, operator_sql(key->type, BTEqualStrategyNumber), g, k,
							 d, col, g, k);
		else
			appendStringInfo(&s, "%s%s.%s %s (%s).k%d", k > 1 ? " AND " : "", d, col,
							 operator_sql(key->type, BTEqualStrategyNumber), g, k);
	}
	return s.data;
}

/* key_has_null_sql: some field of the group key "g" is NULL. */
static char *
key_has_null_sql(DeparseMerge *b, const char *g)
{
	StringInfoData s;
	int			k;

	initStringInfo(&s);
	for (k = 1; k <= list_length(b->an->keys); k++)
		appendStringInfo(&s, "%s(%s).k%d IS NULL", k > 1 ? " OR " : "", g, k);
	return s.data;
}

/* final_columns_sql: the final view's columns computed over state "s". */
static char *
final_columns_sql(DeparseMerge *b)
{
	StringInfoData s;
	ListCell   *lc;

	initStringInfo(&s);
	appendStringInfoString(&s, "s.gid, s.key, s.n");
	foreach(lc, b->an->aggregates)
	{
		DtAggregate *agg = (DtAggregate *) lfirst(lc);

		appendStringInfo(&s, ", %s AS a%d", finalize_sql(agg), agg->no);
	}
	return s.data;
}

/*
 * touched_groups_sql
 *		The CTE "touched" of apply_sql: its parameters (DtSql's apply
 *		params) unnested, one row per group touched, with what the merge
 *		and the cursor walk computed for it; *set: the assignments that
 *		store those in the state, with min and max read again.
 */
static char *
touched_groups_sql(DeparseMerge *b, StringInfo set)
{
	StringInfoData names;
	StringInfoData arrays;
	char	   *ranked;
	int			i;

	initStringInfo(&names);
	initStringInfo(&arrays);
	appendStringInfoString(set, minmax_set_sql(b, "st", "u.rm"));
	ranked = ranked_set_sql(b, "st");
	if (ranked[0] != '\0')
		appendStringInfo(set, "%s%s", set->len > 0 ? ", " : "", ranked);
	for (i = 0; i < b->sql->napply_params; i++)
	{
		DtApplyParam *param = &b->sql->apply_params[i];
		int			no = param->agg ? param->agg->no : 0;
		const char *name = NULL;

		switch (param->kind)
		{
			case DT_APPLY_GIDS:
				name = "gid";
				break;
			case DT_APPLY_DISTINCT_DELTA:
				name = psprintf("cd%d", no);
				appendStringInfo(set, "%sa%d_cd = st.a%d_cd + u.cd%d", set->len > 0 ? ", " : "", no, no, no);
				break;
			case DT_APPLY_REMOVALS:
				name = "rm";
				break;
			case DT_APPLY_CURSOR_VALUE:
				name = psprintf("cv%d", no);
				appendStringInfo(set, "%sa%d_cv = u.cv%d", set->len > 0 ? ", " : "", no, no);
				break;
			case DT_APPLY_CURSOR_RANK:
				name = psprintf("lt%d", no);
				appendStringInfo(set, "%sa%d_lt = u.lt%d", set->len > 0 ? ", " : "", no, no);
				break;
			case DT_APPLY_CURSOR_NEXT:
				name = psprintf("nv%d", no);
				appendStringInfo(set, "%sa%d_nv = u.nv%d", set->len > 0 ? ", " : "", no, no);
				break;
		}
		appendStringInfo(&names, "%s%s", i > 0 ? ", " : "", name);
		appendStringInfo(&arrays, "%s$%d::%s", i > 0 ? ", " : "", i + 1, type_sql(param->type, -1));
	}
	return psprintf("touched AS (SELECT * FROM unnest(%s) AS u(%s)), ", arrays.data, names.data);
}

/*
 * update_set_sql
 *		The assignments of the DT's upsert that rewrite an existing row:
 *		every column but the group keys; "" if there is none.
 */
static char *
update_set_sql(DeparseMerge *b)
{
	StringInfoData upd;
	ListCell   *lt;

	initStringInfo(&upd);
	foreach(lt, b->an->query->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lt);
		bool		is_key = false;
		ListCell   *lk;

		if (tle->resjunk)
			continue;
		foreach(lk, b->an->keys)
			is_key |= (((DtKey *) lfirst(lk))->resno == tle->resno);
		if (!is_key)
			appendStringInfo(&upd, "%s%s = excluded.%s", upd.len > 0 ? ", " : "",
							 quote_identifier(tle->resname), quote_identifier(tle->resname));
	}
	return upd.data;
}

/*
 * upsert_sql
 *		The CTE "upserted" of apply_sql: the rows of the groups of relation
 *		"source" (the final view's columns, as "f") that pass keep_sql,
 *		inserted or, through the DT's key index, written over the row of
 *		their group where it differs.
 */
static char *
upsert_sql(DeparseMerge *b, const char *source)
{
	StringInfoData s;
	char	   *upd = update_set_sql(b);

	initStringInfo(&s);
	appendStringInfo(&s, "upserted AS (INSERT INTO %s AS d SELECT %s FROM %s f WHERE %s ON CONFLICT (%s) ",
					 b->dt, output_list_sql(b), source, keep_sql(b), key_columns_sql(b->an->query, b->an->keys));
	if (upd[0] == '\0')
		appendStringInfoString(&s, "DO NOTHING ");
	else
		appendStringInfo(&s, "DO UPDATE SET %s WHERE ROW(d.*)::%s OPERATOR(pg_catalog.*<>) ROW(excluded.*)::%s ",
						 upd, b->dt, b->dt);

	/*
	 * An upsert that updated locked the old row version first, and the new
	 * version keeps that lock as its xmax; a fresh insert has none.
	 */
	appendStringInfoString(&s, "RETURNING d.xmax OPERATOR(pg_catalog.<>) '0'::pg_catalog.xid AS existed) ");
	return s.data;
}

/*
 * top_k_rows_sql
 *		dt_rows_sql of a query ending in ORDER BY ... LIMIT: the groups are
 *		all in the state, so the top rows are chosen again from the groups
 *		the merge touched, as "finalized" has them now, and the others, as
 *		the final view has them; DT rows of groups not among them are
 *		deleted ("deleted_nulls" is empty), the others upserted.  The cost
 *		is a pass over the state, not over the query's inputs.
 */
static char *
top_k_rows_sql(DeparseMerge *b)
{
	return psprintf("top AS (SELECT f.* FROM (SELECT * FROM finalized UNION ALL "
					"SELECT v.* FROM %s v WHERE NOT EXISTS (SELECT FROM touched u WHERE u.gid = v.gid)) f "
					"WHERE %s%s), "
					"deleted AS (DELETE FROM %s d WHERE NOT EXISTS (SELECT FROM top g WHERE %s) RETURNING 1), "
					"deleted_nulls AS (SELECT 1 WHERE false), %s",
					b->final, keep_sql(b), order_limit_sql(b),
					b->dt, key_match_sql(b, "d", "g.key", true), upsert_sql(b, "top"));
}

/*
 * grouping_sets_rows_sql
 *		dt_rows_sql of a query with grouping sets.  The DT's rows of two
 *		groups can be equal in the key columns (a NULL key of one set, the
 *		key another set does not have), so its key index is not unique:
 *		the rows with the key columns of a group touched ("projected") are
 *		deleted, and inserted again from the groups of every set with those
 *		key columns, as "finalized" has the touched ones and the final view
 *		the others.
 */
static char *
grouping_sets_rows_sql(DeparseMerge *b)
{
	StringInfoData fields;
	StringInfoData sets;
	int			k;

	initStringInfo(&fields);
	initStringInfo(&sets);
	for (k = 1; k <= list_length(b->an->keys); k++)
		appendStringInfo(&fields, "%s(g.key).k%d", k > 1 ? ", " : "", k);
	for (k = 1; k <= list_length(b->an->grouping_sets); k++)
		appendStringInfo(&sets, "%s(%d)", k > 1 ? ", " : "", k);
	return psprintf("projected AS (SELECT DISTINCT ROW(%s, NULL)::%s AS key FROM "
					"(SELECT key FROM gone UNION ALL SELECT key FROM finalized) g), "
					"deleted AS (DELETE FROM %s d USING projected g WHERE %s RETURNING 1), "
					"deleted_nulls AS (SELECT 1 WHERE false), "
					"upserted AS (INSERT INTO %s SELECT %s FROM (SELECT * FROM finalized UNION ALL "
					"SELECT v.* FROM %s v WHERE v.key IN (SELECT ROW(%s, s.s)::%s FROM projected g, (VALUES %s) s(s)) "
					"AND NOT EXISTS (SELECT FROM touched u WHERE u.gid = v.gid)) f WHERE %s "
					"RETURNING false AS existed) ",
					fields.data, b->keytype,
					b->dt, key_match_sql(b, "d", "g.key", true),
					b->dt, output_list_sql(b), b->final, fields.data, b->keytype, sets.data, keep_sql(b));
}

/*
 * dt_rows_sql
 *		The CTEs of apply_sql that rewrite the DT's rows of the groups in
 *		"finalized": "deleted" (and for keys with a NULL "deleted_nulls")
 *		the rows of groups that emptied or fail HAVING, "upserted" the
 *		others, each with whether its row existed before.  A DT without
 *		GROUP BY has one row, deleted and written again.
 */
static char *
dt_rows_sql(DeparseMerge *b)
{
	StringInfoData s;

	initStringInfo(&s);
	if (is_top_k(b->an))
		return top_k_rows_sql(b);
	if (b->an->grouping_sets != NIL)
		return grouping_sets_rows_sql(b);
	if (b->an->keys == NIL)
	{
		appendStringInfo(&s, "deleted AS (DELETE FROM %s d RETURNING 1), "
						 "upserted AS (INSERT INTO %s SELECT %s FROM finalized f WHERE %s "
						 "RETURNING false AS existed) ",
						 b->dt, b->dt, output_list_sql(b), keep_sql(b));
		return s.data;
	}

	/*
	 * Rows of groups that left: by equality through the key index, and apart,
	 * by the slower NULL-matching test, for keys with a NULL.
	 */
	appendStringInfo(&s, "leaving AS (SELECT key FROM gone UNION ALL SELECT f.key FROM finalized f WHERE NOT %s), "
					 "deleted AS (DELETE FROM %s d USING leaving g WHERE %s RETURNING 1), "
					 "deleted_nulls AS (DELETE FROM %s d USING leaving g WHERE (%s) AND %s RETURNING 1), ",
					 keep_sql(b), b->dt, key_match_sql(b, "d", "g.key", false),
					 b->dt, key_has_null_sql(b, "g.key"), key_match_sql(b, "d", "g.key", true));
	appendStringInfoString(&s, upsert_sql(b, "finalized"));
	return s.data;
}

/*
 * apply_sql
 *		The last statement of an incremental refresh, for the groups the
 *		merge touched, with the parameters DtSql's apply params describe.
 *		Its CTEs: "touched" holds the parameters, a row per group;
 *		"gone" drops the groups that emptied; "new_state" stores min/max,
 *		distinct counts and cursors in the state of the others, which
 *		"finalized" finalizes; then dt_rows_sql rewrites their DT rows.
 *		Returns the columns of DtApplyResult.
 */
static char *
apply_sql(DeparseMerge *b)
{
	DtAnalysis *an = b->an;
	StringInfoData s;
	StringInfoData set;
	bool		keyless = (an->keys == NIL);

	initStringInfo(&s);
	initStringInfo(&set);
	appendStringInfoString(&s, "WITH ");
	appendStringInfoString(&s, touched_groups_sql(b, &set));

	/* emptied groups leave; a one-row aggregate keeps its only group */
	if (!keyless)
		appendStringInfo(&s, "gone AS (DELETE FROM %s g USING touched u WHERE g.gid = u.gid AND NOT %s "
						 "RETURNING g.key), ", b->state, nonempty_sql(b, "g"));
	if (set.len > 0)
		appendStringInfo(&s, "new_state AS (UPDATE %s st SET %s FROM touched u WHERE st.gid = u.gid%s%s "
						 "RETURNING st.*), ", b->state, set.data, keyless ? "" : " AND ",
						 keyless ? "" : nonempty_sql(b, "st"));
	else
		appendStringInfo(&s, "new_state AS (SELECT st.* FROM %s st JOIN touched u ON st.gid = u.gid%s%s), ",
						 b->state, keyless ? "" : " WHERE ", keyless ? "" : nonempty_sql(b, "st"));
	appendStringInfo(&s, "finalized AS (SELECT %s FROM new_state s), ", final_columns_sql(b));
	appendStringInfoString(&s, dt_rows_sql(b));
	appendStringInfo(&s, "SELECT (SELECT count(*) FROM deleted)%s, (SELECT count(*) FROM upserted), "
					 "(SELECT count(*) FROM upserted WHERE existed)",
					 keyless ? "" : " + (SELECT count(*) FROM deleted_nulls)");
	return s.data;
}

/*
 * distinct_rebuild_sql
 *		After a rebuild, the UPDATE that counts the distinct values of every
 *		count distinct aggregate of auxiliary table aux; NULL if it has none.
 */
static char *
distinct_rebuild_sql(DeparseMerge *b, DtAuxTable *aux)
{
	List	   *distincts = aggregates_of(b->an, aux->no, DT_AGG_COUNT_DISTINCT, DT_AGG_COUNT_DISTINCT);
	StringInfoData s;
	ListCell   *lc;

	if (distincts == NIL)
		return NULL;
	initStringInfo(&s);
	appendStringInfo(&s, "UPDATE %s s SET ", b->state);
	foreach(lc, distincts)
	{
		DtAggregate *agg = (DtAggregate *) lfirst(lc);

		appendStringInfo(&s, "%sa%d_cd = x.cd%d", foreach_current_index(lc) > 0 ? ", " : "",
						 agg->no, agg->no);
	}
	appendStringInfoString(&s, " FROM (SELECT a.gid");
	foreach(lc, distincts)
	{
		DtAggregate *agg = (DtAggregate *) lfirst(lc);

		appendStringInfo(&s, ", count(*) FILTER (WHERE a.j = %d) AS cd%d", agg->aux_item, agg->no);
	}
	appendStringInfo(&s, " FROM %s a GROUP BY a.gid) x WHERE s.gid = x.gid",
					 names_internal_qualified(DT_OBJECT_AUX, b->dtrelid, aux->no));
	return s.data;
}

/*
 * A rebuild places percentile cursors group by group through the index
 * (cursor_rebuild_sql) where an item has this many values per group on
 * average, or more.
 */
#define CURSOR_WALK_VALUES 16

/*
 * cursor_rebuild_sql
 *		After a rebuild, the UPDATE that places the cursor of percentile
 *		aggregate agg: the value at the target rank, found by running sums
 *		of the counts in value order.  Where the item's groups are large
 *		(CURSOR_WALK_VALUES), each group walks its values through the
 *		auxiliary table's index and stops at the target (a median reads
 *		half of them, and nothing is sorted: a sixth of the CPU of the
 *		sort of every value at 300,000 values in 5 groups); otherwise
 *		(many small groups, where a walk per group costs more than a
 *		sort) the running sums of all the item's values are computed in
 *		one sort.  A condition on the state alone chooses (a one-time
 *		filter: the other branch is not run).
 */
static char *
cursor_rebuild_sql(DeparseMerge *b, DtAggregate *agg)
{
	char	   *n = psprintf("st.x%d_%d_n", agg->aux_no, agg->aux_item);
	char	   *aux = names_internal_qualified(DT_OBJECT_AUX, b->dtrelid, agg->aux_no);
	char	   *walk = psprintf("(SELECT COALESCE(sum(g.x%d_%d_n), 0) >= %d * count(*) FROM %s g)",
								agg->aux_no, agg->aux_item, CURSOR_WALK_VALUES, b->state);
	char	   *r1;
	char	   *nv = "";

	if (agg->kind == DT_AGG_PERCENTILE_CONT)
	{
		r1 = psprintf("(floor(%.17g::float8 * (%s - 1)::float8)::bigint + 1)", agg->fraction, n);
		nv = psprintf(", a%d_nv = CASE WHEN ceil(%.17g::float8 * (r.n - 1)::float8)::bigint + 1 <= r.lt + r.c "
					  "THEN r.v ELSE r.next_v END", agg->no, agg->fraction);
	}
	else
		r1 = psprintf("GREATEST(ceil(%.17g::float8 * %s::float8)::bigint, 1)", agg->fraction, n);

	/*
	 * The first value whose running sum reaches the target has fewer values
	 * before it than the target (target >= 1), as the sort's condition says.
	 */
	return psprintf("UPDATE %s s SET a%d_cv = r.v, a%d_lt = r.lt%s FROM ("
					"SELECT st.gid, x.v, x.c, %s AS n, x.lt, x.next_v FROM %s st CROSS JOIN LATERAL "
					"(SELECT y.v, y.c, y.lt, y.next_v FROM (SELECT a.v, a.c, (sum(a.c) OVER w - a.c)::bigint AS lt, "
					"lead(a.v) OVER w AS next_v FROM %s a WHERE a.gid = st.gid AND a.j = %d "
					"WINDOW w AS (ORDER BY a.v ROWS UNBOUNDED PRECEDING)) y WHERE y.lt + y.c >= %s LIMIT 1) x "
					"WHERE %s "
					"UNION ALL "
					"SELECT y.gid, y.v, y.c, y.n, y.lt, y.next_v FROM "
					"(SELECT a.gid, a.v, a.c, %s AS n, %s AS target, "
					"(sum(a.c) OVER w - a.c)::bigint AS lt, lead(a.v) OVER w AS next_v "
					"FROM %s a JOIN %s st ON st.gid = a.gid WHERE a.j = %d "
					"WINDOW w AS (PARTITION BY a.gid ORDER BY a.v ROWS UNBOUNDED PRECEDING)) y "
					"WHERE y.lt < y.target AND y.lt + y.c >= y.target AND NOT %s) r "
					"WHERE s.gid = r.gid",
					b->state, agg->no, agg->no, nv,
					n, b->state, aux, agg->aux_item, r1, walk,
					n, r1, aux, b->state, agg->aux_item, walk);
}

/*
 * new_heap_sql
 *		The name make_new_heap gives the new heap of auxiliary table aux
 *		(pg_temp_<its OID>, in its schema), which the state's fill
 *		(deparse_state_fill_sql) fills.
 */
static char *
new_heap_sql(DeparseMerge *b, DtAuxTable *aux)
{
	return quote_qualified_identifier(DT_INTERNAL_SCHEMA,
									  psprintf("pg_temp_%u", names_internal_relid(DT_OBJECT_AUX, b->dtrelid, aux->no)));
}

/*
 * sort_key_sql
 *		The group and item of a value of auxiliary table aux as one bigint,
 *		in the order of both, gid * items + j - 1 (the gid where the table
 *		has one item): a sort compares its first key in place and reads the
 *		others from the tuple, and where groups are few most pairs of values
 *		have the same gid (a rebuild of seed 000's summary, five items in
 *		five groups: 7% less CPU).  Gids are an identity from 1, so
 *		sort_key_fields_sql gives them back.
 */
static char *
sort_key_sql(DtAuxTable *aux, const char *gid, const char *j)
{
	int			items = list_length(aux->items);

	if (items == 1)
		return pstrdup(gid);
	return psprintf("%s * %d + (%s - 1)", gid, items, j);
}

/* sort_key_fields_sql: the gid and item (j) of sort_key_sql's key k. */
static char *
sort_key_fields_sql(DtAuxTable *aux, const char *k)
{
	int			items = list_length(aux->items);

	if (items == 1)
		return psprintf("%s, 1::smallint", k);
	return psprintf("%s / %d, (%s %% %d + 1)::smallint", k, items, k, items);
}

/* computed: is expr more than a column (or a column relabelled)? */
static bool
computed(Expr *expr)
{
	while (expr != NULL && IsA(expr, RelabelType))
		expr = ((RelabelType *) expr)->arg;
	return expr != NULL && !IsA(expr, Var);
}

/*
 * computes_arguments
 *		Does a column x<n> or f<n> of an's change rows compute its argument
 *		or filter, not read a column of an input as it is (state_fill_sql)?
 */
static bool
computes_arguments(DtAnalysis *an)
{
	ListCell   *lc;

	foreach(lc, an->aggregates)
	{
		DtAggregate *agg = (DtAggregate *) lfirst(lc);

		if ((agg->input_no > 0 && computed(agg->arg)) || (agg->filter_no > 0 && computed(agg->filter)))
			return true;
	}
	return false;
}

/*
 * state_fill_sql
 *		One statement that aggregates change rows into the state and, joined
 *		to the groups it returns, counts their values into the new heap of
 *		every auxiliary table: from the base table (a rebuild: the state is
 *		empty), or (bulk) from the change window "changed", upserted into
 *		the state, the values added to those of the auxiliary table, the
 *		counts that sum to zero left out.  The values are sorted once, then
 *		counted in that order (not hashed, then sorted again), so that the
 *		new heaps, which have no index, are in index order, and the index
 *		builds of finish_heap_swap find them sorted.  They are sorted by
 *		group and item first, then each group's values of an item by value
 *		(an incremental sort, whose second sort compares values alone): where
 *		groups and items are few, one sort by all three compares most pairs
 *		by all three (five groups of five items of 1M rows: half the CPU).
 *		Group and item are sorted as one number (sort_key_sql).
 *		Both sorts are fenced (OFFSET 0): the planner then counts the sorted
 *		values in order; otherwise, for one item, it hashed them (their
 *		order lost for the index build) or sorted them twice in full.
 *		The values of the auxiliary tables at positions "hashed" (in
 *		aux_tables) are counted in a hash table instead, and only their
 *		counts sorted: where a table has few values (a rebuild of seed
 *		000's template statistics reads 3.8M values of four text items,
 *		200 distinct), which the caller knows from the table's statistics.
 */
static char *
state_fill_sql(DeparseMerge *b, bool bulk, List *changed, List *hashed)
{
	StringInfoData s;
	char	   *rows;
	ListCell   *lc;

	/*
	 * w is read by every auxiliary table's insert too; without one it is read
	 * once, by the aggregate, streamed instead of stored (a rebuild of three
	 * sums over 1M rows: 30% less CPU).  Folded into the aggregate, each of
	 * its expressions is computed again wherever an aggregate's argument or
	 * filter reads it: where some are computed (computes_arguments), w is
	 * fenced (OFFSET 0; TPC-H Q1's state, seven sums whose special values are
	 * counted apart, read its two products about eight times a row: four
	 * times the CPU of the build fenced).  Not where all are columns: the
	 * fence then only costs the group key's ROW, built and taken apart again
	 * for every row (a rebuild of a sum over 1M rows in two keys: 35% more
	 * time fenced).
	 */
	initStringInfo(&s);
	rows = change_rows_sql(b, !bulk, changed);
	if (b->an->aux_tables != NIL)
		rows = psprintf("MATERIALIZED (%s)", rows);
	else if (computes_arguments(b->an))
		rows = psprintf("NOT MATERIALIZED (SELECT * FROM (%s) w OFFSET 0)", rows);
	else
		rows = psprintf("NOT MATERIALIZED (%s)", rows);
	appendStringInfo(&s, "WITH w AS %s, st AS (%s)", rows, state_insert_sql(b, bulk));
	foreach(lc, b->an->aux_tables)
	{
		DtAuxTable *aux = (DtAuxTable *) lfirst(lc);
		char	   *values = psprintf("SELECT %s AS k, u.v, w." DT_COL_SIGN "::bigint AS c "
									  "FROM w JOIN st ON st.key = w.key %s WHERE u.v IS NOT NULL",
									  sort_key_sql(aux, "st.gid", "u.j"), aux_values_sql(aux));

		if (bulk)
			values = psprintf("SELECT %s AS k, a.v, a.c FROM %s a UNION ALL %s", sort_key_sql(aux, "a.gid", "a.j"),
							  names_internal_qualified(DT_OBJECT_AUX, b->dtrelid, aux->no), values);
		if (list_member_int(hashed, foreach_current_index(lc)))
			appendStringInfo(&s, ", a%d AS (INSERT INTO %s (gid, j, v, c) SELECT %s, x.v, x.c "
							 "FROM (SELECT y.k, y.v, sum(y.c) AS c FROM (%s) y GROUP BY y.k, y.v%s OFFSET 0) x "
							 "ORDER BY x.k, x.v)",
							 aux->no, new_heap_sql(b, aux), sort_key_fields_sql(aux, "x.k"), values,
							 bulk ? " HAVING sum(y.c) <> 0" : "");
		else
			appendStringInfo(&s, ", a%d AS (INSERT INTO %s (gid, j, v, c) SELECT %s, x.v, sum(x.c) "
							 "FROM (SELECT * FROM (%s ORDER BY 1 OFFSET 0) y ORDER BY 1, 2 OFFSET 0) x "
							 "GROUP BY x.k, x.v%s)",
							 aux->no, new_heap_sql(b, aux), sort_key_fields_sql(aux, "x.k"), values,
							 bulk ? " HAVING sum(x.c) <> 0" : "");
	}
	appendStringInfoString(&s, " SELECT count(*) FROM st");
	return s.data;
}

/*
 * state_reset_sql
 *		After a bulk merge, before state_finish: the groups that emptied
 *		leave (a one-row aggregate keeps its only group), and the distinct
 *		counts and percentile cursors of the others are cleared, to be
 *		computed again where their items have values.
 */
static List *
state_reset_sql(DeparseMerge *b)
{
	List	   *stmts = NIL;
	StringInfoData set;
	ListCell   *lc;

	if (b->an->keys != NIL)
		stmts = lappend(stmts, psprintf("DELETE FROM %s s WHERE NOT %s", b->state, nonempty_sql(b, "s")));
	initStringInfo(&set);
	foreach(lc, b->an->aggregates)
	{
		DtAggregate *agg = (DtAggregate *) lfirst(lc);
		const char *sep = set.len > 0 ? ", " : "";

		if (agg->kind == DT_AGG_COUNT_DISTINCT)
			appendStringInfo(&set, "%sa%d_cd = 0", sep, agg->no);
		else if (agg->kind == DT_AGG_PERCENTILE_CONT)
			appendStringInfo(&set, "%sa%d_cv = NULL, a%d_nv = NULL, a%d_lt = 0", sep, agg->no, agg->no, agg->no);
		else if (agg->kind == DT_AGG_PERCENTILE_DISC)
			appendStringInfo(&set, "%sa%d_cv = NULL, a%d_lt = 0", sep, agg->no, agg->no);
	}
	if (set.len > 0)
		stmts = lappend(stmts, psprintf("UPDATE %s SET %s", b->state, set.data));
	return stmts;
}

/*
 * rebuild_sql
 *		The statements that rebuild the state from the base table (DtSql):
 *		empty it, fill it and the new heaps of the auxiliary tables in one
 *		scan, then (state_finish) count distinct values, read min and max,
 *		place the percentile cursors, ANALYZE.
 */
static void
rebuild_sql(DeparseMerge *b)
{
	DtSql	   *sql = b->sql;
	StringInfoData tables;
	ListCell   *lc;
	char	   *minmax;
	char	   *ranked;

	initStringInfo(&tables);
	appendStringInfoString(&tables, b->state);
	sql->aux_relids = NIL;
	foreach(lc, b->an->aux_tables)
	{
		DtAuxTable *aux = (DtAuxTable *) lfirst(lc);

		appendStringInfo(&tables, ", %s", names_internal_qualified(DT_OBJECT_AUX, b->dtrelid, aux->no));
		sql->aux_relids = lappend_oid(sql->aux_relids, names_internal_relid(DT_OBJECT_AUX, b->dtrelid, aux->no));
	}
	sql->state_clear = psprintf("TRUNCATE %s", b->state);
	sql->state_reset = state_reset_sql(b);

	sql->state_finish = NIL;
	/* the group of the empty grouping set has a row over no rows */
	if (b->an->empty_set != 0)
	{
		StringInfoData nulls;
		int			k;

		initStringInfo(&nulls);
		for (k = 0; k < list_length(b->an->keys); k++)
			appendStringInfoString(&nulls, "NULL, ");
		sql->state_finish = lappend(sql->state_finish,
									psprintf("INSERT INTO %s (key) SELECT ROW(%s%d)::%s ON CONFLICT (key) DO NOTHING",
											 b->state, nulls.data, b->an->empty_set, b->keytype));
	}

	foreach(lc, b->an->aux_tables)
	{
		char	   *distincts = distinct_rebuild_sql(b, (DtAuxTable *) lfirst(lc));

		if (distincts != NULL)
			sql->state_finish = lappend(sql->state_finish, distincts);
	}

	minmax = minmax_set_sql(b, "s", NULL);
	if (minmax[0] != '\0')
		sql->state_finish = lappend(sql->state_finish, psprintf("UPDATE %s s SET %s", b->state, minmax));
	ranked = ranked_set_sql(b, "s");
	if (ranked[0] != '\0')
		sql->state_finish = lappend(sql->state_finish, psprintf("UPDATE %s s SET %s", b->state, ranked));

	foreach(lc, b->an->aggregates)
	{
		DtAggregate *agg = (DtAggregate *) lfirst(lc);

		if (is_percentile(agg->kind))
			sql->state_finish = lappend(sql->state_finish, cursor_rebuild_sql(b, agg));
	}

	/* statistics now: the refreshes' plans are made from them */
	sql->state_finish = lappend(sql->state_finish, psprintf("ANALYZE %s", tables.data));
}

/* ---------------------------------------------------------------------
 * Affected-key recompute
 * ---------------------------------------------------------------------
 */

/*
 * from_item_sql
 *		A leaf's FROM item (as querytree_walk_from copied it) with each of
 *		its relations read as kinds says (kinds[i] for the i-th of
 *		leaf->rels).
 */
static char *
from_item_sql(DtKeyLeaf *leaf, Node *item, List *ctx, SourceKind *kinds)
{
	if (IsA(item, RangeTblRef))
	{
		ListCell   *lc;

		foreach(lc, leaf->rels)
		{
			DtFromRel  *rel = (DtFromRel *) lfirst(lc);

			if (rel->rtindex == ((RangeTblRef *) item)->rtindex)
				return source_sql(rel, kinds[foreach_current_index(lc)]);
		}
		elog(ERROR, "relation %u of a partition key's leaf not found", ((RangeTblRef *) item)->rtindex);
	}
	else
	{
		JoinExpr   *join = castNode(JoinExpr, item);

		return psprintf("(%s %s JOIN %s ON %s)",
						from_item_sql(leaf, join->larg, ctx, kinds),
						join->jointype == JOIN_LEFT ? "LEFT" : join->jointype == JOIN_RIGHT ? "RIGHT"
						: join->jointype == JOIN_FULL ? "FULL" : "INNER",
						from_item_sql(leaf, join->rarg, ctx, kinds),
						join->quals == NULL ? "true" : expr_sql((Expr *) join->quals, ctx));
	}
	return NULL;
}

/*
 * leaf_key_terms
 *		The SELECTs of the keys of one leaf that a window touches (see
 *		deparse_recompute_keys_sql), appended to terms with UNION ALL.
 */
static void
leaf_key_terms(DtKeyLeaf *leaf, List *changed, StringInfo terms)
{
	List	   *ctx = context_for_level(leaf->level);
	char	   *key = expr_sql(leaf->expr, ctx);
	int			start = terms->len;
	ListCell   *lc;

	/* a constant key: touched by any change of the tables its level reads */
	if (leaf->key_rtindex == 0)
	{
		foreach(lc, leaf->const_relids)
		{
			if (list_member_oid(changed, lfirst_oid(lc)))
			{
				appendStringInfo(terms, "%sSELECT %s AS k", terms->len > 0 ? " UNION ALL " : "", key);
				break;
			}
		}
		return;
	}

	foreach(lc, leaf->rels)
	{
		DtFromRel  *rel = (DtFromRel *) lfirst(lc);

		if (rel->rtindex == leaf->key_rtindex && rel->input != NULL &&
			list_member_oid(changed, rel->input->relid))
			appendStringInfo(terms, "%sSELECT %s AS k FROM %s", terms->len > 0 ? " UNION ALL " : "",
							 key, source_sql(rel, SOURCE_CHANGES));
		/* the key of a FULL JOIN of two tables: each side's, from its changes */
		if (rel->rtindex == leaf->key_rtindex2 && list_member_oid(changed, rel->input->relid))
			appendStringInfo(terms, "%sSELECT %s AS k FROM %s", terms->len > 0 ? " UNION ALL " : "",
							 expr_sql(leaf->expr2, ctx),
							 source_sql(rel, SOURCE_CHANGES));
	}
	/* a subquery's table: the inner side of its equality with the key */
	foreach(lc, leaf->subs)
	{
		DtFromRel  *rel = (DtFromRel *) lfirst(lc);

		if (list_member_oid(changed, rel->input->relid))
			appendStringInfo(terms, "%sSELECT %s AS k FROM %s", terms->len > 0 ? " UNION ALL " : "",
							 expr_sql((Expr *) linitial(rel->semi->inner_keys), context_for_level(rel->semi->sub)),
							 source_sql(rel, SOURCE_CHANGES));
	}
	/* one side's column of a FULL JOIN: NULL in the other side's rows */
	if (leaf->side && terms->len > start)
		appendStringInfo(terms, " UNION ALL SELECT NULL::%s AS k",
						 type_sql(exprType((Node *) leaf->expr), exprTypmod((Node *) leaf->expr)));
	if (leaf->key_rtindex2 != 0)
		return;
	foreach(lc, change_terms(leaf->rels, changed, leaf->key_rtindex))
	{
		ChangeTerm *term = (ChangeTerm *) lfirst(lc);
		ListCell   *lf;

		appendStringInfo(terms, "%sSELECT %s AS k FROM ", terms->len > 0 ? " UNION ALL " : "", key);
		foreach(lf, leaf->from)
			appendStringInfo(terms, "%s%s", foreach_current_index(lf) > 0 ? ", " : "",
							 from_item_sql(leaf, (Node *) lfirst(lf), ctx, term->kinds));
		appendStringInfo(terms, " WHERE t%u." DT_COL_SIGN " IS NOT NULL",
						 ((DtFromRel *) list_nth(leaf->rels, term->lead))->rtindex);
		if (leaf->quals != NULL)
			appendStringInfo(terms, " AND %s", expr_sql((Expr *) leaf->quals, ctx));
	}
}

/*
 * join_path
 *		The equalities of rc->edges (a tree over the level's relations) on
 *		the way from relation from to relation to, in that order, into
 *		*path; false if there is none (seen: the relations behind).
 */
static bool
join_path(List *edges, Index from, Index to, Bitmapset *seen, List **path)
{
	ListCell   *lc;

	if (from == to)
		return true;
	seen = bms_add_member(bms_copy(seen), from);
	foreach(lc, edges)
	{
		OpExpr	   *op = (OpExpr *) lfirst(lc);
		Index		a = linitial_node(Var, op->args)->varno;
		Index		b = lsecond_node(Var, op->args)->varno;
		Index		next = a == from ? b : b == from ? a : 0;

		if (next != 0 && !bms_is_member(next, seen) && join_path(edges, next, to, seen, path))
		{
			*path = lcons(op, *path);
			return true;
		}
	}
	return false;
}

/*
 * leaf_rel: the relation rtindex of a leaf's FROM list.
 */
static DtFromRel *
leaf_rel(DtKeyLeaf *leaf, Index rtindex)
{
	ListCell   *lc;

	foreach(lc, leaf->rels)
	{
		if (((DtFromRel *) lfirst(lc))->rtindex == rtindex)
			return (DtFromRel *) lfirst(lc);
	}
	elog(ERROR, "relation %u of a partition key's leaf not found", rtindex);
	return NULL;
}

/*
 * step_source
 *		A relation on the way from a changed row to a key (any_key_terms):
 *		as it was where the window changed it (now and its changes: a
 *		superset), else as it is now.
 */
static char *
step_source(DtFromRel *rel, List *changed)
{
	return source_sql(rel, list_member_oid(changed, rel->input->relid) ? SOURCE_BEFORE : SOURCE_NOW);
}

/*
 * any_key_terms
 *		The SELECTs of the keys of a key column of outer joins over
 *		equalities (DtRecompute.any) that a window touches, appended to
 *		terms with UNION ALL: the column's values in the rows that reach a
 *		changed row of a changed relation through the equalities on the
 *		way, the relations between each as it is now and as it was (now
 *		and its changes: a superset); and NULL for a changed row of the
 *		column's relation whose every join column is NULL.  Each step is
 *		an EXISTS, not a join: a join multiplied the rows of each value on
 *		the way (many changed rows of a few values took minutes).
 */
static void
any_key_terms(DtRecompute *rc, DtKeyLeaf *leaf, List *changed, StringInfo terms)
{
	List	   *ctx = context_for_level(leaf->level);
	Var		   *var = (Var *) leaf->expr;
	char	   *key = expr_sql((Expr *) var, ctx);
	ListCell   *lc;

	foreach(lc, leaf->rels)
	{
		DtFromRel  *rel = (DtFromRel *) lfirst(lc);
		List	   *path = NIL;
		List	   *steps = NIL;
		Bitmapset  *reached = bms_make_singleton(rel->rtindex);
		ListCell   *le;
		int			n;

		if (!list_member_oid(changed, rel->input->relid))
			continue;
		if (!join_path(rc->edges, rel->rtindex, var->varno, NULL, &path))
			elog(ERROR, "no join path between relations %u and %u", rel->rtindex, var->varno);
		/* the relations on the way, the key's first, rel's neighbour last */
		foreach(le, path)
		{
			OpExpr	   *op = (OpExpr *) lfirst(le);
			Index		next = bms_is_member(linitial_node(Var, op->args)->varno, reached) ?
			lsecond_node(Var, op->args)->varno : linitial_node(Var, op->args)->varno;
			DtFromRel  *other = leaf_rel(leaf, next);

			steps = lcons(other, steps);
			reached = bms_add_member(reached, next);
		}
		n = list_length(path);
		appendStringInfo(terms, "%sSELECT %s AS k FROM %s WHERE %s IS NOT NULL", terms->len > 0 ? " UNION ALL " : "",
						 key, n == 0 ? source_sql(rel, SOURCE_CHANGES) : step_source(linitial(steps), changed), key);
		for (int i = 1; i <= n; i++)
			appendStringInfo(terms, " AND EXISTS (SELECT FROM %s WHERE %s",
							 i < n ? step_source(list_nth(steps, i), changed) : source_sql(rel, SOURCE_CHANGES),
							 expr_sql((Expr *) list_nth(path, n - i), ctx));
		for (int i = 1; i <= n; i++)
			appendStringInfoChar(terms, ')');
		if (n > 0)
			continue;
		appendStringInfo(terms, " UNION ALL SELECT NULL::%s AS k FROM %s WHERE true",
						 type_sql(var->vartype, var->vartypmod), source_sql(rel, SOURCE_CHANGES));
		foreach(le, rc->edges)
		{
			ListCell   *lv;

			foreach(lv, ((OpExpr *) lfirst(le))->args)
			{
				if (lfirst_node(Var, lv)->varno == rel->rtindex)
					appendStringInfo(terms, " AND %s IS NULL",
									 expr_sql((Expr *) lfirst(lv), ctx));
			}
		}
	}
}

/*
 * deparse_recompute_keys_sql
 *		The keys touched by a window that changed the inputs "changed"
 *		(relids): one row, for each key column the non-null keys as an
 *		array and whether the NULL key is one of them.  Window position $1,
 *		$2, $3.  A changed row of the key's table touches its own key,
 *		before and after; a changed row of another table, the keys of the
 *		rows it joins in the leaf's FROM list (outer joins kept, so that a
 *		row without a match elsewhere is still found), the other tables as
 *		they are now and as they were: the terms of change_terms, whose
 *		signs do not matter here, with the key's table as it is now.  The
 *		keys of each column are found on their own: the rows to recompute
 *		are those whose every key is one found (a superset of the rows the
 *		changes touch, exact since each column partitions the query).
 */
char *
deparse_recompute_keys_sql(DtAnalysis *an, List *changed)
{
	StringInfoData ctes;
	StringInfoData cols;
	List	   *rels = NIL;
	ListCell   *lk;
	ListCell   *lc;
	char	   *window;

	foreach(lk, an->recompute->keys)
	{
		foreach(lc, ((DtKeyColumn *) lfirst(lk))->leaves)
			rels = list_concat(list_concat(rels, ((DtKeyLeaf *) lfirst(lc))->rels),
							   ((DtKeyLeaf *) lfirst(lc))->subs);
	}
	window = changes_cte_sql(rels, changed);
	initStringInfo(&ctes);
	initStringInfo(&cols);
	foreach(lk, an->recompute->keys)
	{
		StringInfoData terms;
		int			i = foreach_current_index(lk) + 1;

		initStringInfo(&terms);
		foreach(lc, ((DtKeyColumn *) lfirst(lk))->leaves)
		{
			if (an->recompute->any)
				any_key_terms(an->recompute, (DtKeyLeaf *) lfirst(lc), changed, &terms);
			else
				leaf_key_terms((DtKeyLeaf *) lfirst(lc), changed, &terms);
		}
		if (terms.len == 0 && an->recompute->any)
			appendStringInfo(&terms, "SELECT NULL::%s AS k WHERE false",
							 type_sql(((DtKeyColumn *) lfirst(lk))->type, -1));
		if (terms.len == 0)
			elog(ERROR, "no relation the dynamic table reads changed");
		appendStringInfo(&ctes, "%s" KEYS_CTE "%d AS (%s)",
						 window[0] != '\0' || i > 1 ? ", " : "WITH ", i, terms.data);
		appendStringInfo(&cols, "%s(SELECT array_agg(DISTINCT k) FILTER (WHERE k IS NOT NULL) FROM " KEYS_CTE "%d), "
						 "(SELECT coalesce(bool_or(k IS NULL), false) FROM " KEYS_CTE "%d)",
						 i > 1 ? ", " : "", i, i);
	}
	return psprintf("%s%s SELECT %s", window, ctes.data, cols.data);
}

/*
 * any_nulls_condition
 *		With DtRecompute.any: some $2i, and every key column (prefixed)
 *		NULL.
 */
static char *
any_nulls_condition(DtRecompute *rc, const char *prefix)
{
	StringInfoData s;
	ListCell   *lc;

	initStringInfo(&s);
	foreach(lc, rc->keys)
		appendStringInfo(&s, "%s$%d", foreach_current_index(lc) > 0 ? " OR " : "(",
						 2 * foreach_current_index(lc) + 2);
	appendStringInfoChar(&s, ')');
	foreach(lc, rc->keys)
		appendStringInfo(&s, " AND %s%s IS NULL", prefix, quote_identifier(((DtKeyColumn *) lfirst(lc))->name));
	return s.data;
}

/*
 * any_keys_condition
 *		With DtRecompute.any: some key column of keys (prefixed) is one of
 *		its keys $2i-1, or (every key column of rc) any_nulls_condition.
 */
static char *
any_keys_condition(DtRecompute *rc, const char *prefix, List *keys)
{
	StringInfoData s;
	ListCell   *lc;

	initStringInfo(&s);
	foreach(lc, keys)
	{
		DtKeyColumn *key = (DtKeyColumn *) lfirst(lc);

		appendStringInfo(&s, "%s%s %s ANY ($%d) OR ", prefix, quote_identifier(key->name),
						 operator_sql(key->type, BTEqualStrategyNumber), 2 * foreach_current_index(lc) + 1);
	}
	appendStringInfo(&s, "(%s)", any_nulls_condition(rc, prefix));
	return s.data;
}

/*
 * recompute_delete_sql: delete the DT's rows whose key i is one of $2i-1
 * or, if $2i, NULL, for every key column i.
 */
static char *
recompute_delete_sql(Oid dtrelid, DtAnalysis *an)
{
	StringInfoData s;
	ListCell   *lc;

	initStringInfo(&s);
	appendStringInfo(&s, "DELETE FROM %s WHERE ", names_qualified(dtrelid));
	if (an->recompute->any)
		return psprintf("%s%s", s.data, any_keys_condition(an->recompute, "", an->recompute->keys));
	foreach(lc, an->recompute->keys)
	{
		DtKeyColumn *key = (DtKeyColumn *) lfirst(lc);
		const char *col = quote_identifier(key->name);
		int			i = foreach_current_index(lc);

		appendStringInfo(&s, "%s(%s %s ANY ($%d) OR (%s IS NULL AND $%d))", i > 0 ? " AND " : "",
						 col, operator_sql(key->type, BTEqualStrategyNumber), 2 * i + 1, col, 2 * i + 2);
	}
	return s.data;
}

/*
 * recompute_insert_sql: compute the rows of partitions $1 and, if $2, NULL;
 * with DtRecompute.any, those of any_keys_condition, each once: a SELECT
 * of the rows with key column i in $2i-1 but no earlier one in its keys,
 * whose condition, strict on the column, lets the planner read the outer
 * joins as the joins of those rows; then the rows all NULL.
 */
static char *
recompute_insert_sql(Oid dtrelid, DtAnalysis *an)
{
	char	   *query = settings_print_query(an->recompute->query);
	StringInfoData s;
	ListCell   *lc;

	if (!an->recompute->any)
		return psprintf("INSERT INTO %s %s", names_qualified(dtrelid), query);
	initStringInfo(&s);
	appendStringInfo(&s, "INSERT INTO %s ", names_qualified(dtrelid));
	foreach(lc, an->recompute->keys)
	{
		DtKeyColumn *key = (DtKeyColumn *) lfirst(lc);
		int			i = foreach_current_index(lc);

		appendStringInfo(&s, "SELECT * FROM (%s) q WHERE q.%s %s ANY ($%d)", query, quote_identifier(key->name),
						 operator_sql(key->type, BTEqualStrategyNumber), 2 * i + 1);
		if (i > 0)
			appendStringInfo(&s, " AND (%s) IS NOT TRUE",
							 any_keys_condition(an->recompute, "q.", list_copy_head(an->recompute->keys, i)));
		appendStringInfoString(&s, " UNION ALL ");
	}
	appendStringInfo(&s, "SELECT * FROM (%s) q WHERE %s", query, any_nulls_condition(an->recompute, "q."));
	return s.data;
}

/*
 * merge_layout
 *		The columns merge returns and the parameters apply takes (DtSql):
 *		per count distinct aggregate its deltas, then per percentile
 *		aggregate (a cursor) how many changed values lie below it; apply's
 *		gids, each distinct's deltas, then each cursor's values, ranks and,
 *		for percentile_cont, next values.
 */
static void
merge_layout(DtSql *sql, DtAnalysis *an)
{
	List	   *distincts = aggregates_of(an, 0, DT_AGG_COUNT_DISTINCT, DT_AGG_COUNT_DISTINCT);
	ListCell   *lc;
	int			ncols = 0;
	int			nparams = 0;

	sql->cursors = aggregates_of(an, 0, DT_AGG_PERCENTILE_CONT, DT_AGG_PERCENTILE_DISC);
	sql->merge_columns = palloc0(sizeof(DtMergeColumn) *
								 (1 + list_length(distincts) + list_length(sql->cursors)));
	sql->apply_params = palloc0(sizeof(DtApplyParam) *
								(2 + list_length(distincts) + 3 * list_length(sql->cursors)));
	sql->apply_params[nparams++] = (DtApplyParam)
	{
		DT_APPLY_GIDS, NULL, INT8ARRAYOID, -1, -1
	};
	foreach(lc, distincts)
	{
		DtAggregate *agg = (DtAggregate *) lfirst(lc);

		sql->apply_params[nparams++] = (DtApplyParam)
		{
			DT_APPLY_DISTINCT_DELTA, agg, INT8ARRAYOID, ncols, -1
		};
		sql->merge_columns[ncols++] = (DtMergeColumn)
		{
			DT_MERGE_DISTINCT_DELTA, agg, -1
		};
	}
	if (aggregates_of(an, 0, DT_AGG_MIN, DT_AGG_MAX) != NIL)
	{
		sql->apply_params[nparams++] = (DtApplyParam)
		{
			DT_APPLY_REMOVALS, NULL, INT8ARRAYOID, ncols, -1
		};
		sql->merge_columns[ncols++] = (DtMergeColumn)
		{
			DT_MERGE_REMOVALS, NULL, -1
		};
	}
	foreach(lc, sql->cursors)
	{
		DtAggregate *agg = (DtAggregate *) lfirst(lc);
		int			cursor = foreach_current_index(lc);
		Oid			values = get_array_type(agg->argtype);

		sql->merge_columns[ncols++] = (DtMergeColumn)
		{
			DT_MERGE_RANK_SHIFT, agg, cursor
		};
		sql->apply_params[nparams++] = (DtApplyParam)
		{
			DT_APPLY_CURSOR_VALUE, agg, values, -1, cursor
		};
		sql->apply_params[nparams++] = (DtApplyParam)
		{
			DT_APPLY_CURSOR_RANK, agg, INT8ARRAYOID, -1, cursor
		};
		if (agg->kind == DT_AGG_PERCENTILE_CONT)
			sql->apply_params[nparams++] = (DtApplyParam)
		{
			DT_APPLY_CURSOR_NEXT, agg, values, -1, cursor
		};
	}
	sql->nmerge_columns = ncols;
	sql->napply_params = nparams;
}

/*
 * deparse_refresh_sql
 *		All statements of a DT's refreshes.  For a delta-merge DT the
 *		internal objects must exist (the final view is read for names).
 */
DtSql *
deparse_refresh_sql(Oid dtrelid, DtAnalysis *an)
{
	DtSql	   *sql = palloc0(sizeof(DtSql));
	DeparseMerge *bp = palloc0(sizeof(DeparseMerge));
	ListCell   *lc;

	sql->dt_name = names_qualified(dtrelid);
	sql->full_delete = psprintf("DELETE FROM %s", sql->dt_name);
	sql->full_query = settings_print_query(an->defining);
	sql->full_insert = psprintf("INSERT INTO %s %s", sql->dt_name, sql->full_query);
	if (an->internal > 0)
	{
		sql->written_query = settings_print_query(an->written);
		sql->query_insert = psprintf("INSERT INTO %s %s", sql->dt_name, sql->written_query);
	}
	sql->rows_insert = psprintf("INSERT INTO %s SELECT * FROM %s", sql->dt_name, DT_QUERY_ROWS);

	foreach(lc, an->inputs)
	{
		DtInput    *input = (DtInput *) lfirst(lc);

		if (!input->capturable)
			continue;
		sql->count_relids = lappend_oid(sql->count_relids, input->relid);
		sql->count_changes = lappend(sql->count_changes, count_sql(input));
	}
	if (an->strategy == DT_STRATEGY_RECOMPUTE)
	{
		sql->recompute_delete = recompute_delete_sql(dtrelid, an);
		sql->recompute_insert = recompute_insert_sql(dtrelid, an);
	}
	if (an->strategy != DT_STRATEGY_MERGE)
		return sql;

	merge_layout(sql, an);
	bp->dtrelid = dtrelid;
	bp->an = an;
	bp->sql = sql;
	bp->dt = sql->dt_name;
	bp->state = names_internal_qualified(DT_OBJECT_STATE, dtrelid, 0);
	bp->final = names_internal_qualified(DT_OBJECT_FINAL, dtrelid, 0);
	bp->keytype = names_internal_qualified(DT_OBJECT_KEY, dtrelid, 0);
	bp->from_ctx = context_for_level(an->query);
	bp->final_relid = names_internal_relid(DT_OBJECT_FINAL, dtrelid, 0);
	if (!OidIsValid(bp->final_relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("internal objects of dynamic table \"%s\" are missing", get_rel_name(dtrelid))));
	bp->final_ctx = deparse_context_for("f", bp->final_relid);
	bp->key_typid = get_atttype(bp->final_relid, 2);

	sql->merge = bp;
	sql->cursor_read = cursor_read_sql(bp);
	sql->apply = apply_sql(bp);
	rebuild_sql(bp);
	sql->dt_fill = psprintf("INSERT INTO %s SELECT %s FROM %s f WHERE %s%s",
							bp->dt, output_list_sql(bp), bp->final, keep_sql(bp), order_limit_sql(bp));
	return sql;
}

/*
 * deparse_merge_sql
 *		The merge statement of a refresh whose window changed the inputs
 *		"changed" (relids, at least one of the DT's FROM list).
 */
char *
deparse_merge_sql(DtSql *sql, List *changed)
{
	return merge_sql(sql->merge, changed);
}

/*
 * deparse_bulk_merge_sql
 *		The statement of a refresh whose window is large against the state
 *		(refresh.c decides): the window "changed" merged into the state and
 *		into the new heaps of the auxiliary tables as the state's fill
 *		(deparse_state_fill_sql) does.
 */
char *
deparse_bulk_merge_sql(DtSql *sql, List *changed)
{
	return state_fill_sql(sql->merge, true, changed, NIL);
}

/*
 * deparse_state_fill_sql
 *		The statement that fills the state and the new heaps of the
 *		auxiliary tables from the base tables (DtSql's rebuild), counting
 *		the values of the auxiliary tables at positions "hashed" (of
 *		aux_relids) in a hash table (state_fill_sql).
 */
char *
deparse_state_fill_sql(DtSql *sql, List *hashed)
{
	return state_fill_sql(sql->merge, false, NIL, hashed);
}

/*
 * deparse_cursor_walk_sql
 *		The three queries percentile.c walks an auxiliary table with, for
 *		values of that table's type: the values above ($3) in order, those
 *		below in reverse order (both $1 gid, $2 item, $3 value, $4 limit),
 *		and the value at rank $3 counted from the smallest ($1 gid, $2 item).
 */
void
deparse_cursor_walk_sql(Oid dtrelid, DtAuxTable *aux, char **up, char **down, char **start)
{
	char	   *auxname = names_internal_qualified(DT_OBJECT_AUX, dtrelid, aux->no);

	*up = psprintf("SELECT v, c FROM %s WHERE gid = $1 AND j = $2 AND v %s $3 ORDER BY v LIMIT $4",
				   auxname, operator_sql(aux->valtype, BTGreaterStrategyNumber));
	*down = psprintf("SELECT v, c FROM %s WHERE gid = $1 AND j = $2 AND v %s $3 ORDER BY v DESC LIMIT $4",
					 auxname, operator_sql(aux->valtype, BTLessStrategyNumber));
	*start = psprintf("SELECT v, lt, c FROM (SELECT v, c, (sum(c) OVER (ORDER BY v ROWS UNBOUNDED PRECEDING) - c)::bigint AS lt "
					  "FROM %s WHERE gid = $1 AND j = $2) r WHERE lt < $3 AND lt + c >= $3 ORDER BY v LIMIT 1",
					  auxname);
}
