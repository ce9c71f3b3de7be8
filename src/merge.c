/*-------------------------------------------------------------------------
 *
 * merge.c
 *		Delta merge: can the query be maintained by merging the changes
 *		into per-group state, and with what state?
 *
 * A query delta merge maintains is one grouped level (GROUP BY, GROUPING
 * SETS, ROLLUP or CUBE, or aggregates without it) over tables joined with inner joins, every GROUP
 * BY expression an output column (with GROUP BY, it may end in ORDER BY
 * ... LIMIT/OFFSET: every group is in the state, and a refresh chooses
 * the top rows from it again), every aggregate one whose state can be
 * merged (DtAggKind: count, count distinct, sum, avg, the variance family,
 * min, max, percentile_cont, percentile_disc, bool_and/bool_or/every, each
 * with or without FILTER), and the clock (now()) only in the select list.
 * Its WHERE may have semi- and anti-joins (DtSemiJoin): [NOT] EXISTS and
 * [NOT] IN over one table, correlated by equalities (NOT IN only where
 * neither side can be NULL, when it is NOT EXISTS).
 * merge_analyze fills the plan of such a query into a DtAnalysis: its
 * FROM list and conditions, its group keys, its aggregates with the
 * arithmetic of their state (DtSumDomain), the inputs and filters the
 * change rows carry (x1..xn, f1..fm), and the auxiliary value-count tables
 * of the holistic aggregates (min, max, count distinct, percentiles).
 * deparse.c writes the state and the SQL from that plan.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_am.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_agg.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "analysis.h"

/* The most grouping sets a query may have: a change row counts in each. */
#define DT_MAX_GROUPING_SETS 64

/*
 * expr_index
 *		Position (1-based) of an expression in a list, compared with equal();
 *		appended if absent.
 */
static int
expr_index(List **list, Expr *expr)
{
	ListCell   *lc;
	int			i = 0;

	foreach(lc, *list)
	{
		i++;
		if (equal(lfirst(lc), expr))
			return i;
	}
	*list = lappend(*list, expr);
	return list_length(*list);
}

/* has_btree_opclass: can values of this type be sorted and indexed? */
static bool
has_btree_opclass(Oid type)
{
	return OidIsValid(GetDefaultOpClass(type, BTREE_AM_OID));
}

/* What aggregate is this, and over which kind of arithmetic? */
typedef struct KnownAggregate
{
	const char *name;
	DtAggKind	kind;
} KnownAggregate;

static const KnownAggregate known_aggregates[] = {
	{"count", DT_AGG_COUNT},
	{"sum", DT_AGG_SUM},
	{"avg", DT_AGG_AVG},
	{"variance", DT_AGG_VAR_SAMP},
	{"var_samp", DT_AGG_VAR_SAMP},
	{"var_pop", DT_AGG_VAR_POP},
	{"stddev", DT_AGG_STDDEV_SAMP},
	{"stddev_samp", DT_AGG_STDDEV_SAMP},
	{"stddev_pop", DT_AGG_STDDEV_POP},
	{"min", DT_AGG_MIN},
	{"max", DT_AGG_MAX},
	{"percentile_cont", DT_AGG_PERCENTILE_CONT},
	{"percentile_disc", DT_AGG_PERCENTILE_DISC},
	{"bool_and", DT_AGG_BOOL_AND},
	{"every", DT_AGG_BOOL_AND},
	{"bool_or", DT_AGG_BOOL_OR},
};


/* sum_domain: the state arithmetic of sum/avg/variance over a type. */
static DtSumDomain
sum_domain(Oid type, DtAggKind kind)
{
	switch (type)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
			return DT_DOMAIN_INTEGER;
		case NUMERICOID:
			return DT_DOMAIN_NUMERIC;
		case FLOAT4OID:
		case FLOAT8OID:
			return DT_DOMAIN_FLOAT;
		case INTERVALOID:
			return (kind == DT_AGG_SUM || kind == DT_AGG_AVG) ? DT_DOMAIN_INTERVAL : DT_DOMAIN_NONE;
		case MONEYOID:
			return kind == DT_AGG_SUM ? DT_DOMAIN_MONEY : DT_DOMAIN_NONE;
		default:
			return DT_DOMAIN_NONE;
	}
}

/* aux_table_for: the auxiliary table holding values of a type, created on demand. */
static DtAuxTable *
aux_table_for(DtAnalysis *an, Oid type, int32 typmod, Oid collation)
{
	ListCell   *lc;
	DtAuxTable *aux;

	foreach(lc, an->aux_tables)
	{
		aux = (DtAuxTable *) lfirst(lc);
		if (aux->valtype == type && aux->valtypmod == typmod &&
			aux->valcollation == collation)
			return aux;
	}
	aux = palloc0(sizeof(DtAuxTable));
	aux->no = list_length(an->aux_tables) + 1;
	aux->valtype = type;
	aux->valtypmod = typmod;
	aux->valcollation = collation;
	an->aux_tables = lappend(an->aux_tables, aux);
	return aux;
}

/* assign_aux_item: the item of (argument, filter) in its auxiliary table. */
static void
assign_aux_item(DtAnalysis *an, DtAggregate *agg)
{
	DtAuxTable *aux = aux_table_for(an, agg->argtype, agg->argtypmod, agg->argcollation);
	ListCell   *lc;
	DtAuxItem  *item;

	agg->aux_no = aux->no;
	foreach(lc, aux->items)
	{
		item = (DtAuxItem *) lfirst(lc);
		if (item->input_no == agg->input_no && item->filter_no == agg->filter_no)
		{
			agg->aux_item = item->j;
			return;
		}
	}
	item = palloc0(sizeof(DtAuxItem));
	item->j = list_length(aux->items) + 1;
	item->input_no = agg->input_no;
	item->filter_no = agg->filter_no;
	aux->items = lappend(aux->items, item);
	agg->aux_item = item->j;
}

/*
 * aggregate_kind
 *		Which maintained aggregate aggref calls (agg->kind), by the name of a
 *		function of pg_catalog; false if none.  *name: its name.
 */
static bool
aggregate_kind(Aggref *aggref, DtAggregate *agg, char **name)
{
	HeapTuple	proctup;
	Form_pg_proc procform;
	bool		found = false;
	int			i;

	proctup = SearchSysCache1(PROCOID, ObjectIdGetDatum(aggref->aggfnoid));
	if (!HeapTupleIsValid(proctup))
		elog(ERROR, "cache lookup failed for function %u", aggref->aggfnoid);
	procform = (Form_pg_proc) GETSTRUCT(proctup);
	*name = pstrdup(NameStr(procform->proname));
	if (procform->pronamespace == PG_CATALOG_NAMESPACE)
	{
		for (i = 0; i < lengthof(known_aggregates); i++)
		{
			if (strcmp(*name, known_aggregates[i].name) == 0)
			{
				agg->kind = known_aggregates[i].kind;
				found = true;
				break;
			}
		}
	}
	ReleaseSysCache(proctup);
	return found;
}

/*
 * percentile_argument
 *		The fraction and the ordering argument of percentile_cont or
 *		percentile_disc (name), or why they cannot be maintained.  A
 *		fraction outside [0, 1] is an error, as PostgreSQL's.
 */
static char *
percentile_argument(Aggref *aggref, DtAggregate *agg, const char *name)
{
	Node	   *direct;
	Const	   *c;
	SortGroupClause *sort;
	TypeCacheEntry *tc;

	if (list_length(aggref->aggdirectargs) != 1 || list_length(aggref->args) != 1)
		return psprintf("%s() with this argument list", name);
	direct = eval_const_expressions(NULL, linitial(aggref->aggdirectargs));
	if (!IsA(direct, Const) || ((Const *) direct)->consttype != FLOAT8OID)
		return psprintf("%s() with a fraction that is not a constant number", name);
	c = (Const *) direct;
	if (c->constisnull)
		return psprintf("%s() with a NULL fraction", name);
	agg->fraction = DatumGetFloat8(c->constvalue);
	sort = linitial_node(SortGroupClause, aggref->aggorder);
	tc = lookup_type_cache(exprType((Node *) ((TargetEntry *) linitial(aggref->args))->expr),
						   TYPECACHE_LT_OPR);
	if (sort->sortop != tc->lt_opr)
		return psprintf("%s() ordered by DESC or USING", name);
	if (agg->fraction < 0 || agg->fraction > 1 || isnan(agg->fraction))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("percentile value %g is not between 0 and 1", agg->fraction)));
	agg->arg = ((TargetEntry *) linitial(aggref->args))->expr;
	return NULL;
}

/*
 * plain_argument
 *		The argument of any other aggregate (name): none for count(*), one
 *		otherwise; DISTINCT only for count (count distinct), min and max.
 */
static char *
plain_argument(Aggref *aggref, DtAggregate *agg, const char *name)
{
	if (aggref->aggorder != NIL)
		return psprintf("ORDER BY inside aggregate %s()", name);
	if (aggref->aggstar)
	{
		agg->kind = DT_AGG_COUNT_STAR;
		agg->arg = NULL;
	}
	else
	{
		if (list_length(aggref->args) != 1)
			return psprintf("aggregate %s() with %d arguments", name, list_length(aggref->args));
		agg->arg = ((TargetEntry *) linitial(aggref->args))->expr;
	}
	if (aggref->aggdistinct != NIL)
	{
		if (agg->kind == DT_AGG_COUNT)
			agg->kind = DT_AGG_COUNT_DISTINCT;
		else if (agg->kind != DT_AGG_MIN && agg->kind != DT_AGG_MAX)
			return psprintf("DISTINCT inside aggregate %s()", name);
	}
	return NULL;
}

/*
 * filter_guarded
 *		The argument of agg, which has a FILTER, as the change rows compute
 *		it: only for the rows the filter keeps (CASE WHEN filter THEN
 *		argument END), as PostgreSQL evaluates an aggregate's argument, so
 *		that a row the filter leaves out cannot fail the state's statements:
 *		sum(100 / x) FILTER (WHERE x <> 0) divided by zero on the rows with
 *		x = 0, its state could not be built, and the DT refreshed in full.
 *		NULL where the filter is not true, which the aggregate does not
 *		count either (cond_sql).  A column or a constant is left as it is.
 */
static Expr *
filter_guarded(DtAggregate *agg)
{
	CaseExpr   *c;
	CaseWhen   *w;

	if (IsA(agg->arg, Var) || IsA(agg->arg, Const))
		return agg->arg;
	w = makeNode(CaseWhen);
	w->expr = agg->filter;
	w->result = agg->arg;
	w->location = -1;
	c = makeNode(CaseExpr);
	c->casetype = agg->argtype;
	c->casecollid = agg->argcollation;
	c->args = list_make1(w);
	c->defresult = (Expr *) makeNullConst(agg->argtype, agg->argtypmod, agg->argcollation);
	c->location = -1;
	return (Expr *) c;
}

/*
 * aggregate_state
 *		Where the state of agg comes from: its argument (filter_guarded)
 *		and filter as columns of the change rows, the arithmetic of a sum,
 *		or an item of an auxiliary table; or why its argument's type has
 *		none.
 */
static char *
aggregate_state(DtAnalysis *an, DtAggregate *agg, const char *name)
{
	if (agg->arg != NULL)
	{
		if (type_is_rowtype(exprType((Node *) agg->arg)))
			return psprintf("aggregate %s() over a composite value", name);
		agg->argtype = exprType((Node *) agg->arg);
		agg->argtypmod = exprTypmod((Node *) agg->arg);
		agg->argcollation = exprCollation((Node *) agg->arg);
		if (agg->filter != NULL)
			agg->arg = filter_guarded(agg);
		agg->input_no = expr_index(&an->input_exprs, agg->arg);
	}
	if (agg->filter != NULL)
		agg->filter_no = expr_index(&an->filter_exprs, agg->filter);

	switch (agg->kind)
	{
		case DT_AGG_SUM:
		case DT_AGG_AVG:
		case DT_AGG_VAR_SAMP:
		case DT_AGG_VAR_POP:
		case DT_AGG_STDDEV_SAMP:
		case DT_AGG_STDDEV_POP:
			agg->domain = sum_domain(agg->argtype, agg->kind);
			if (agg->domain == DT_DOMAIN_NONE)
				return psprintf("aggregate %s() over type %s", name,
								format_type_be(agg->argtype));
			break;
		case DT_AGG_MIN:
		case DT_AGG_MAX:
		case DT_AGG_COUNT_DISTINCT:
		case DT_AGG_PERCENTILE_CONT:
		case DT_AGG_PERCENTILE_DISC:
			if (!has_btree_opclass(agg->argtype))
				return psprintf("aggregate %s() over type %s, which has no default btree operator class",
								name, format_type_be(agg->argtype));
			assign_aux_item(an, agg);
			break;
		default:
			break;
	}
	return NULL;
}

/*
 * classify_aggregate
 *		Fill in a DtAggregate for an Aggref, or return the reason it cannot
 *		be maintained incrementally.
 */
static char *
classify_aggregate(DtAnalysis *an, Aggref *aggref, DtAggregate *agg)
{
	char	   *name;
	char	   *reason;

	if (aggref->agglevelsup != 0)
		return pstrdup("aggregates of an outer query level");
	if (!aggregate_kind(aggref, agg, &name))
		return psprintf("aggregate function %s()", name);

	agg->aggref = aggref;
	agg->filter = aggref->aggfilter;
	agg->restype = aggref->aggtype;
	agg->restypmod = -1;
	if (agg->kind == DT_AGG_PERCENTILE_CONT || agg->kind == DT_AGG_PERCENTILE_DISC)
		reason = percentile_argument(aggref, agg, name);
	else
		reason = plain_argument(aggref, agg, name);
	if (reason != NULL)
		return reason;
	return aggregate_state(an, agg, name);
}

/* Context for replacing group keys and aggregates in output expressions. */
typedef struct OutputCheck
{
	DtAnalysis *an;
	char	   *reason;
	bool		inside_aggregate;
} OutputCheck;

/*
 * ranked_aggregate
 *		A subquery of window.c in an output or HAVING expression (merge_analyze
 *		lets no other through): an aggregate over a group's first k rows,
 *		DT_AGG_RANKED, once per distinct subquery.
 */
static void
ranked_aggregate(DtAnalysis *an, SubLink * sublink)
{
	DtAggregate *agg;
	ListCell   *lc;

	foreach(lc, an->aggregates)
	{
		if (equal(((DtAggregate *) lfirst(lc))->ranked, sublink))
			return;
	}
	agg = palloc0(sizeof(DtAggregate));
	agg->no = list_length(an->aggregates) + 1;
	agg->kind = DT_AGG_RANKED;
	agg->ranked = (Expr *) sublink;
	agg->restype = exprType((Node *) sublink);
	agg->restypmod = exprTypmod((Node *) sublink);
	an->aggregates = lappend(an->aggregates, agg);
}

/* collect_aggrefs_walker: classify every Aggref once (deduplicated). */
static bool
collect_aggrefs_walker(Node *node, OutputCheck *ctx)
{
	ListCell   *lc;

	if (node == NULL || ctx->reason != NULL)
		return false;
	if (IsA(node, SubLink))
	{
		ranked_aggregate(ctx->an, (SubLink *) node);
		return false;
	}
	if (IsA(node, Aggref))
	{
		DtAggregate *agg;

		foreach(lc, ctx->an->aggregates)
		{
			if (equal(((DtAggregate *) lfirst(lc))->aggref, node))
				return false;
		}
		agg = palloc0(sizeof(DtAggregate));
		agg->no = list_length(ctx->an->aggregates) + 1;
		ctx->reason = classify_aggregate(ctx->an, (Aggref *) node, agg);
		if (ctx->reason == NULL)
			ctx->an->aggregates = lappend(ctx->an->aggregates, agg);
		return false;			/* arguments are checked separately */
	}
	return expression_tree_walker(node, collect_aggrefs_walker, ctx);
}

/*
 * check_output_walker
 *		An output or HAVING expression must be built from group keys and
 *		aggregates only: a Var outside both means a column grouped by
 *		functional dependency, which the state cannot reproduce.
 */
static bool
check_output_walker(Node *node, OutputCheck *ctx)
{
	ListCell   *lc;

	if (node == NULL || ctx->reason != NULL)
		return false;
	if (IsA(node, Aggref) || IsA(node, SubLink) || IsA(node, GroupingFunc))
		return false;
	foreach(lc, ctx->an->keys)
	{
		if (equal(((DtKey *) lfirst(lc))->expr, node))
			return false;
	}
	if (IsA(node, Var))
	{
		ctx->reason = psprintf("column \"%s\" used outside an aggregate without being a GROUP BY expression",
							   get_rte_attribute_name(rt_fetch(((Var *) node)->varno,
															   ctx->an->query->rtable),
													  ((Var *) node)->varattno));
		return false;
	}
	return expression_tree_walker(node, check_output_walker, ctx);
}

/*
 * level_reason
 *		Why a query level is not one grouped level over tables, by the
 *		clauses it has, or NULL.
 */
static char *
level_reason(Query *query)
{
	if (query->setOperations != NULL)
		return pstrdup("UNION, INTERSECT and EXCEPT");
	if (query->cteList != NIL)
		return pstrdup("WITH queries");
	if (query->hasWindowFuncs)
		return pstrdup("window functions");
	if (query->hasTargetSRFs)
		return pstrdup("set-returning functions in the select list");
	if (query->hasDistinctOn)
		return pstrdup("DISTINCT ON");
	if (query->jointree->fromlist == NIL)
		return pstrdup("queries without FROM");
	return NULL;
}

/*
 * collect_grouping_sets
 *		The grouping sets of GROUPING SETS, ROLLUP and CUBE into
 *		an->grouping_sets, each one grouping whose groups the state keeps
 *		apart (deparse.c: a change row counts in a group of every set, the
 *		keys outside the set NULL).  A set listed twice gives its rows
 *		twice, and DISTINCT and LIMIT read the rows of several groups
 *		together: neither is a grouping of the state.  One empty set alone
 *		is an aggregate without GROUP BY.
 */
static char *
collect_grouping_sets(Query *query, DtAnalysis *an)
{
	List	   *sets = expand_grouping_sets(query->groupingSets, query->groupDistinct, -1);
	ListCell   *lc;

	if (query->distinctClause != NIL || query->limitCount != NULL || query->limitOffset != NULL)
		return pstrdup("DISTINCT, LIMIT or OFFSET over GROUPING SETS, ROLLUP or CUBE");
	if (list_length(sets) > DT_MAX_GROUPING_SETS)
		return psprintf("GROUPING SETS, ROLLUP or CUBE of more than %d grouping sets", DT_MAX_GROUPING_SETS);
	if (list_length(sets) == 1 && linitial(sets) == NIL)
		return NULL;
	foreach(lc, sets)
	{
		Bitmapset  *set = NULL;
		ListCell   *lr;

		foreach(lr, (List *) lfirst(lc))
			set = bms_add_member(set, lfirst_int(lr));
		foreach(lr, an->grouping_sets)
		{
			if (bms_equal(set, (Bitmapset *) lfirst(lr)))
				return pstrdup("GROUPING SETS, ROLLUP or CUBE that repeat a grouping set");
		}
		an->grouping_sets = lappend(an->grouping_sets, set);
		if (set == NULL)
			an->empty_set = list_length(an->grouping_sets);
	}
	return NULL;
}

/*
 * collect_keys
 *		The group keys into an->keys: each must be an output column with a
 *		btree-sortable type that is not composite.
 */
static char *
collect_keys(Query *query, DtAnalysis *an)
{
	ListCell   *lc;

	foreach(lc, query->groupClause)
	{
		SortGroupClause *sgc = lfirst_node(SortGroupClause, lc);
		TargetEntry *tle = get_sortgroupclause_tle(sgc, query->targetList);
		DtKey	   *key;

		if (tle->resjunk)
			return pstrdup("GROUP BY expressions that are not in the select list");
		key = palloc0(sizeof(DtKey));
		key->expr = tle->expr;
		key->resno = tle->resno;
		key->sortgroupref = sgc->tleSortGroupRef;
		key->type = exprType((Node *) tle->expr);
		key->typmod = exprTypmod((Node *) tle->expr);
		key->collation = exprCollation((Node *) tle->expr);
		if (!has_btree_opclass(key->type))
			return psprintf("GROUP BY over type %s, which has no default btree operator class",
							format_type_be(key->type));
		if (type_is_rowtype(key->type))
			return pstrdup("GROUP BY a composite value");
		an->keys = lappend(an->keys, key);
	}
	if (query->groupingSets != NIL)
		return collect_grouping_sets(query, an);
	if (query->distinctClause != NIL && an->keys == NIL)
		return pstrdup("DISTINCT over an aggregate without GROUP BY");
	if ((query->limitCount != NULL || query->limitOffset != NULL) && an->keys == NIL)
		return pstrdup("LIMIT and OFFSET over an aggregate without GROUP BY");
	return NULL;
}

/*
 * computed_from_state
 *		Is an entry of the select list computed from the groups' state: an
 *		output column, or, in a query ending in ORDER BY ... LIMIT (whose
 *		top rows a refresh chooses from the state), an ORDER BY expression
 *		(the order of a DT's rows is otherwise nobody's).
 */
static bool
computed_from_state(Query *query, TargetEntry *tle)
{
	ListCell   *lc;

	if (!tle->resjunk)
		return true;
	if (query->limitCount == NULL && query->limitOffset == NULL)
		return false;
	foreach(lc, query->sortClause)
	{
		if (lfirst_node(SortGroupClause, lc)->tleSortGroupRef == tle->ressortgroupref &&
			tle->ressortgroupref != 0)
			return true;
	}
	return false;
}

/*
 * order_dependent_reason
 *		Why the floating-point sums and averages of query cannot be kept in
 *		its state (exactly, floatsum.c), or NULL: where their last digits,
 *		which depend on the order the query reads its rows in
 *		(querytree_order_dependent_aggregate), pick the rows: HAVING, the
 *		order under LIMIT (0.1, 0.2 and 0.3 sum to 0.6000000000000001 in
 *		the query, 0.6 in the state).  (A value other than a number made
 *		from one in the select list, sum(x) > 0.6, is left as it is: seed
 *		000's stability badge of stddev / avg merges.)
 */
static char *
order_dependent_reason(Query *query)
{
	ListCell   *lc;

	if (querytree_order_dependent_aggregate(query->havingQual))
		return pstrdup("HAVING over a floating-point sum or average (its last digits depend on the order of the rows)");
	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (tle->resjunk && computed_from_state(query, tle) &&
			querytree_order_dependent_aggregate((Node *) tle->expr))
			return pstrdup("an order under LIMIT by a floating-point sum or average (its last digits depend "
						   "on the order of the rows)");
	}
	return NULL;
}

/*
 * collect_aggregates
 *		The aggregates of the select list and HAVING into an->aggregates,
 *		then a check of the expressions built over them and the keys.
 */
static char *
collect_aggregates(Query *query, DtAnalysis *an)
{
	OutputCheck ctx = {an, NULL, false};
	ListCell   *lc;
	char	   *reason;

	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (computed_from_state(query, tle))
			collect_aggrefs_walker((Node *) tle->expr, &ctx);
	}
	collect_aggrefs_walker(query->havingQual, &ctx);
	if (ctx.reason != NULL)
		return ctx.reason;
	if ((reason = order_dependent_reason(query)) != NULL)
		return reason;

	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (computed_from_state(query, tle))
			check_output_walker((Node *) tle->expr, &ctx);
	}
	check_output_walker(query->havingQual, &ctx);
	return ctx.reason;
}

/*
 * functions_reason
 *		Why the functions of a grouped query rule delta merge out, or NULL.
 *		Only the select list may read the clock: refreshed_at-style columns
 *		take the time of the refresh that writes the row.  Anywhere else
 *		(*state_exprs: the aggregates, keys, conditions and HAVING, what the
 *		state is computed from, and what chooses the rows within a LIMIT)
 *		the answer would change without any row changing.
 */
static char *
functions_reason(Query *query, DtAnalysis *an, List **state_exprs)
{
	DtFunctionFacts facts;
	ListCell   *lc;

	*state_exprs = NIL;
	foreach(lc, an->aggregates)
	{
		DtAggregate *agg = (DtAggregate *) lfirst(lc);

		if (agg->kind == DT_AGG_RANKED && querytree_facts((Node *) agg->ranked).time)
			return pstrdup("the current time (now(), CURRENT_TIMESTAMP, ...) in an aggregate over the first rows of a window");
		*state_exprs = lappend(*state_exprs, agg->aggref);
	}
	foreach(lc, an->keys)
		* state_exprs = lappend(*state_exprs, ((DtKey *) lfirst(lc))->expr);
	*state_exprs = lappend(*state_exprs, an->quals);
	foreach(lc, an->from)
	{
		if (((DtFromRel *) lfirst(lc))->semi != NULL)
			*state_exprs = lappend(*state_exprs, ((DtFromRel *) lfirst(lc))->semi->predicate);
	}
	*state_exprs = lappend(*state_exprs, query->havingQual);
	/* and what chooses the rows within a LIMIT */
	foreach(lc, query->targetList)
	{
		if (lfirst_node(TargetEntry, lc)->resjunk && computed_from_state(query, lfirst_node(TargetEntry, lc)))
			*state_exprs = lappend(*state_exprs, lfirst_node(TargetEntry, lc)->expr);
	}
	*state_exprs = lappend(*state_exprs, query->limitCount);
	*state_exprs = lappend(*state_exprs, query->limitOffset);
	facts = querytree_facts((Node *) *state_exprs);
	if (facts.time)
		return pstrdup("the current time (now(), CURRENT_TIMESTAMP, ...) outside the select list");
	if (facts.whole_row)
		return pstrdup("whole-row references and system columns");
	facts = querytree_facts((Node *) query->targetList);
	if (OidIsValid(facts.user_stable))
		return psprintf("function %s, which is not IMMUTABLE", format_procedure(facts.user_stable));
	facts = querytree_facts((Node *) *state_exprs);
	if (OidIsValid(facts.user_stable))
		return psprintf("function %s, which is not IMMUTABLE", format_procedure(facts.user_stable));
	return NULL;
}

/* ---------------------------------------------------------------------
 * Semi- and anti-joins: [NOT] EXISTS and [NOT] IN in WHERE
 * ---------------------------------------------------------------------
 */

/* The Vars below a node, by level (level_walker). */
typedef struct LevelCheck
{
	Index		level;			/* relative to the node */
	bool		some;			/* a Var of that level */
	bool		other;			/* a Var of another level, a sublink, an
								 * aggregate */
} LevelCheck;

/* level_walker: note the Vars of node by level. */
static bool
level_walker(Node *node, LevelCheck *check)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
	{
		if (((Var *) node)->varlevelsup == check->level)
			check->some = true;
		else
			check->other = true;
		return false;
	}
	if (IsA(node, SubLink) || IsA(node, Aggref) || IsA(node, Query))
	{
		check->other = true;
		return false;
	}
	return expression_tree_walker(node, level_walker, check);
}

/* of_level: does node read Vars of one level only (some of them if needed)? */
static bool
of_level(Node *node, Index level, bool needed)
{
	LevelCheck	check = {level, false, false};

	level_walker(node, &check);
	return !check.other && (check.some || !needed);
}

/*
 * add_semi_key
 *		Append to semi's keys the pair of a correlation equality: inner over
 *		the subquery's table, outer (kept, one level up) over the query's.
 *		Both of one type whose default equality is opno, so that D's keys
 *		are distinct under the equality the query matches them with.
 */
static char *
add_semi_key(DtSemiJoin *semi, List **outer_keys, Expr *inner, Expr *outer, Oid opno)
{
	Oid			type = exprType((Node *) inner);

	if (!of_level((Node *) inner, 0, true) || !of_level((Node *) outer, 1, true))
		return pstrdup("subqueries in WHERE correlated otherwise than by equalities");
	if (!op_mergejoinable(opno, exprType((Node *) outer)) && !op_hashjoinable(opno, exprType((Node *) outer)))
		return pstrdup("subqueries in WHERE correlated otherwise than by equalities");
	if (exprType((Node *) outer) != type || exprCollation((Node *) outer) != exprCollation((Node *) inner) ||
		lookup_type_cache(type, TYPECACHE_EQ_OPR)->eq_opr != opno)
		return pstrdup("subqueries in WHERE correlated by an equality of two types or collations");
	if (!has_btree_opclass(type) || type_is_rowtype(type))
		return psprintf("subqueries in WHERE correlated over type %s", format_type_be(type));
	semi->inner_keys = lappend(semi->inner_keys, inner);
	*outer_keys = lappend(*outer_keys, outer);
	return NULL;
}

/* not_null_column: is expr a column declared NOT NULL of a table of level? */
static bool
not_null_column(Query *level, Expr *expr)
{
	Var		   *var = (Var *) expr;
	RangeTblEntry *rte;
	HeapTuple	tup;
	bool		notnull;

	if (!IsA(expr, Var) || var->varattno <= 0)
		return false;
	rte = rt_fetch(var->varno, level->rtable);
	if (rte->rtekind != RTE_RELATION)
		return false;
	tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(rte->relid), Int16GetDatum(var->varattno));
	if (!HeapTupleIsValid(tup))
		return false;
	notnull = ((Form_pg_attribute) GETSTRUCT(tup))->attnotnull;
	ReleaseSysCache(tup);
	return notnull;
}

/*
 * semi_join_form
 *		Is a WHERE conjunct EXISTS, NOT EXISTS, IN or NOT IN (x = ANY) over
 *		a subquery, or a condition on one scalar subquery?  *sublink, *anti
 *		for the negated ones, *scalar for the last.
 */
static char *
semi_join_form(Node *conjunct, SubLink * *sublink, bool *anti, bool *scalar)
{
	Node	   *arg = is_notclause(conjunct) ? (Node *) get_notclausearg((Expr *) conjunct) : conjunct;
	List	   *found;
	OpExpr	   *op;

	*anti = *scalar = false;
	if (!IsA(arg, SubLink) || ((SubLink *) arg)->subLinkType == EXPR_SUBLINK)
	{
		found = querytree_sublinks(conjunct);
		if (list_length(found) != 1 || ((SubLink *) linitial(found))->subLinkType != EXPR_SUBLINK)
			return pstrdup("subqueries in expressions but [NOT] EXISTS, [NOT] IN and one scalar subquery in WHERE");
		*sublink = (SubLink *) linitial(found);
		*scalar = true;
		return NULL;
	}
	*anti = (arg != conjunct);
	*sublink = (SubLink *) arg;
	if ((*sublink)->subLinkType == EXISTS_SUBLINK)
		return NULL;
	op = (OpExpr *) (*sublink)->testexpr;
	if ((*sublink)->subLinkType == ANY_SUBLINK && op != NULL && IsA(op, OpExpr) &&
		list_length(op->args) == 2 && IsA(lsecond(op->args), Param) &&
		of_level(linitial(op->args), 0, true))
		return NULL;
	return pstrdup("subqueries in expressions but [NOT] EXISTS, [NOT] IN and one scalar subquery in WHERE");
}

/*
 * eval_shape_reason
 *		Why the subquery of a semi-join that is evaluated per key (IN over a
 *		grouping, a scalar aggregate) is not one, or NULL: a scalar must be
 *		one aggregate row, IN's grouping must be by its output alone, and
 *		neither may read the query's columns but in its correlation.
 */
static char *
eval_shape_reason(SubLink * sublink, DtSemiJoin *semi)
{
	Query	   *sub = semi->sub;
	TargetEntry *tle = linitial_node(TargetEntry, sub->targetList);

	if (semi->scalar && (!sub->hasAggs || sub->groupClause != NIL || sub->havingQual != NULL))
		return pstrdup("scalar subqueries other than one aggregate row");
	if (semi->scalar && querytree_order_dependent_aggregate((Node *) sub->targetList))
		return pstrdup("scalar subqueries in WHERE of a floating-point sum or average (its last digits depend on the order of the rows)");
	if (!semi->scalar && (sublink->subLinkType != ANY_SUBLINK || semi->anti ||
						  list_length(sub->groupClause) != 1 ||
						  linitial_node(SortGroupClause, sub->groupClause)->tleSortGroupRef != tle->ressortgroupref))
		return pstrdup("subqueries that aggregate but in IN grouped by its output, or scalar");
	if (contain_vars_of_level((Node *) sub->targetList, 1) || contain_vars_of_level(sub->havingQual, 1))
		return pstrdup("subqueries that aggregate columns of the query");
	return NULL;
}

/*
 * correlated_in
 *		IN over a grouping (x IN (SELECT k ... GROUP BY k HAVING ...)) as
 *		the same IN with k = x in its WHERE: the same rows, but evaluated
 *		for each row read through k's index, not by grouping the whole
 *		table, where a refresh evaluates it for changed rows only.
 */
static SubLink *
correlated_in(SubLink * sublink)
{
	SubLink    *copy = copyObject(sublink);
	OpExpr	   *op = (OpExpr *) copy->testexpr;
	Query	   *sub = (Query *) copy->subselect;
	Expr	   *outer = copyObject(linitial(op->args));
	Expr	   *cond;

	IncrementVarSublevelsUp((Node *) outer, 1, 0);
	cond = make_opclause(op->opno, BOOLOID, false, outer, copyObject(linitial_node(TargetEntry, sub->targetList)->expr),
						 InvalidOid, op->inputcollid);
	set_opfuncid((OpExpr *) cond);
	sub->jointree->quals = (Node *) make_ands_explicit(lappend(make_ands_implicit((Expr *) sub->jointree->quals), cond));
	return copy;
}

/*
 * make_eval
 *		The subquery of a semi-join without its correlation (keeping its
 *		other conditions, local_quals), its table read from the WITH query
 *		"dt_rows" that deparse.c defines: the rows of one key, now or as
 *		they were.
 */
static Query *
make_eval(DtSemiJoin *semi)
{
	Query	   *eval = copyObject(semi->sub);
	RangeTblEntry *rte = rt_fetch(semi->sub_rtindex, eval->rtable);
	List	   *names = NIL;

	/*
	 * A CTE's columns print by the names in eref, which are those of the
	 * table when the query was stored; "dt_rows" has its columns' names now
	 * (a column renamed since).
	 */
	for (int i = 1; i <= list_length(rte->eref->colnames); i++)
	{
		char	   *name = get_attname(rte->relid, i, true);

		names = lappend(names, makeString(name != NULL ? name : pstrdup("")));
	}
	rte->eref->colnames = names;
	eval->jointree->quals = copyObject(semi->local_quals);
	rte->rtekind = RTE_CTE;
	rte->ctename = pstrdup("dt_rows");
	rte->ctelevelsup = 0;
	rte->relid = InvalidOid;
	rte->inh = false;
	return eval;
}

/*
 * semi_join_keys
 *		The keys of semi-join semi over its subquery sub: for IN, its
 *		output against the tested expression; then the correlation
 *		equalities of its WHERE, whose other conjuncts are local_quals.
 *		*outer_keys: the query's side, one level up.
 */
static char *
semi_join_keys(Query *query, SubLink * sublink, DtSemiJoin *semi, List **outer_keys)
{
	Query	   *sub = semi->sub;
	List	   *local = NIL;
	ListCell   *lc;
	char	   *reason;

	if (sublink->subLinkType == ANY_SUBLINK)
	{
		OpExpr	   *op = (OpExpr *) sublink->testexpr;
		Expr	   *outer = copyObject(linitial(op->args));
		TargetEntry *tle = linitial_node(TargetEntry, sub->targetList);

		IncrementVarSublevelsUp((Node *) outer, 1, 0);
		if ((reason = add_semi_key(semi, outer_keys, tle->expr, outer, op->opno)) != NULL)
			return reason;
		if (semi->anti && (!not_null_column(query, (Expr *) querytree_flatten_joins(query, linitial(op->args))) ||
						   !not_null_column(sub, tle->expr)))
			return pstrdup("NOT IN over expressions that can be NULL");
	}
	foreach(lc, make_ands_implicit((Expr *) sub->jointree->quals))
	{
		Node	   *cond = (Node *) lfirst(lc);
		OpExpr	   *op = (OpExpr *) cond;

		if (of_level(cond, 0, false))
			local = lappend(local, cond);
		else if (!IsA(op, OpExpr) || list_length(op->args) != 2)
			return pstrdup("subqueries in WHERE correlated otherwise than by equalities");
		else if (of_level(linitial(op->args), 0, true))
			reason = add_semi_key(semi, outer_keys, linitial(op->args), lsecond(op->args), op->opno);
		else
			reason = add_semi_key(semi, outer_keys, lsecond(op->args), linitial(op->args), op->opno);
		if (reason != NULL)
			return reason;
	}
	if (semi->inner_keys == NIL && !semi->scalar)
		return pstrdup("uncorrelated EXISTS");
	semi->local_quals = local == NIL ? NULL : (Node *) make_ands_explicit(local);
	return NULL;
}

/* The scalar subquery to replace, and the Var of D's value that replaces it. */
typedef struct ScalarReplace
{
	SubLink    *sublink;
	Var		   *value;
} ScalarReplace;

/* scalar_mutator: the conjunct with its scalar subquery replaced. */
static Node *
scalar_mutator(Node *node, ScalarReplace *replace)
{
	if (node == NULL)
		return NULL;
	if (node == (Node *) replace->sublink)
		return copyObject((Node *) replace->value);
	return expression_tree_mutator(node, scalar_mutator, replace);
}

/*
 * scalar_condition
 *		A conjunct comparing with a scalar subquery, as a condition over D's
 *		value column attno of relation rtindex instead.
 */
static Node *
scalar_condition(Query *query, Node *conjunct, SubLink * sublink, Index rtindex, AttrNumber attno)
{
	ScalarReplace replace;

	replace.sublink = sublink;
	replace.value = makeVar(rtindex, attno, exprType((Node *) sublink), exprTypmod((Node *) sublink),
							exprCollation((Node *) sublink), 0);
	return querytree_flatten_joins(query, scalar_mutator(conjunct, &replace));
}

/*
 * semi_join_rel
 *		D of the semi- or anti-join of a WHERE conjunct, as a relation of
 *		the query's FROM list (a subquery entry appended to its range
 *		table, columns k1..kn, and for a scalar its value v and, in its
 *		change, the value before, was_v), or why the conjunct is not one.
 *		The subquery must read one table under conditions.
 */
static char *
semi_join_rel(DtAnalysis *an, Query *query, Node *conjunct, DtFromRel **rel)
{
	SubLink    *sublink = NULL;
	DtSemiJoin *semi = palloc0(sizeof(DtSemiJoin));
	DtFromWalk	walk = {0};
	List	   *outer_keys = NIL;
	List	   *colnames = NIL;
	List	   *quals = NIL;
	RangeTblEntry *rte;
	Query	   *sub;
	ListCell   *li;
	ListCell   *lo;
	char	   *reason;

	if ((reason = semi_join_form(conjunct, &sublink, &semi->anti, &semi->scalar)) != NULL)
		return reason;
	sub = castNode(Query, sublink->subselect);
	semi->sub = sub;
	if (sub->setOperations != NULL || sub->groupingSets != NIL || sub->hasWindowFuncs ||
		sub->hasTargetSRFs || sub->hasSubLinks || sub->cteList != NIL || sub->limitCount != NULL ||
		sub->limitOffset != NULL || sub->hasDistinctOn || list_length(sub->jointree->fromlist) != 1)
		return pstrdup("subqueries in WHERE that read other than one table under conditions");
	if ((semi->scalar || sub->hasAggs || sub->groupClause != NIL || sub->havingQual != NULL) &&
		(reason = eval_shape_reason(sublink, semi)) != NULL)
		return reason;
	if ((reason = querytree_walk_from(an->inputs, sub, linitial(sub->jointree->fromlist), &walk, NULL)) != NULL)
		return reason;
	if (list_length(walk.rels) != 1 || walk.quals != NIL ||
		((DtFromRel *) linitial(walk.rels))->input == NULL)
		return pstrdup("subqueries in WHERE that read other than one table under conditions");
	semi->sub_rtindex = ((DtFromRel *) linitial(walk.rels))->rtindex;
	semi->predicate = querytree_flatten_joins(query, conjunct);
	if ((reason = semi_join_keys(query, sublink, semi, &outer_keys)) != NULL)
		return reason;
	if (semi->scalar || sub->hasAggs || sub->groupClause != NIL)
		semi->eval = make_eval(semi);
	if (semi->eval != NULL && !semi->scalar)
		semi->predicate = querytree_flatten_joins(query, (Node *) correlated_in(sublink));

	rte = makeNode(RangeTblEntry);
	rte->rtekind = RTE_SUBQUERY;
	rte->subquery = sub;
	query->rtable = lappend(query->rtable, rte);
	*rel = palloc0(sizeof(DtFromRel));
	(*rel)->rtindex = list_length(query->rtable);
	(*rel)->input = ((DtFromRel *) linitial(walk.rels))->input;
	(*rel)->level = sub;
	(*rel)->attnums = ((DtFromRel *) linitial(walk.rels))->attnums;
	(*rel)->semi = semi;
	forboth(li, semi->inner_keys, lo, outer_keys)
	{
		Expr	   *inner = (Expr *) lfirst(li);
		Expr	   *outer = copyObject((Expr *) lfirst(lo));
		Oid			type = exprType((Node *) inner);
		Oid			eq = lookup_type_cache(type, TYPECACHE_EQ_OPR)->eq_opr;
		Var		   *k = makeVar((*rel)->rtindex, foreach_current_index(li) + 1, type,
								exprTypmod((Node *) inner), exprCollation((Node *) inner), 0);

		IncrementVarSublevelsUp((Node *) outer, -1, 0);
		outer = (Expr *) querytree_flatten_joins(query, (Node *) outer);
		quals = lappend(quals, make_opclause(eq, BOOLOID, false, outer, (Expr *) k,
											 InvalidOid, exprCollation((Node *) inner)));
		set_opfuncid((OpExpr *) llast(quals));
		colnames = lappend(colnames, makeString(psprintf("k%d", foreach_current_index(li) + 1)));
	}
	if (semi->scalar)
	{
		semi->value_cond = scalar_condition(query, conjunct, sublink, (*rel)->rtindex,
											list_length(colnames) + 1);
		quals = lappend(quals, semi->value_cond);
		colnames = lappend(colnames, makeString("v"));
		colnames = lappend(colnames, makeString("was_v"));
	}
	semi->join_quals = (Node *) make_ands_explicit(quals);
	rte->eref = makeAlias("semi", colnames);
	return NULL;
}

/*
 * semi_joins
 *		Split the WHERE of query (a copy the analysis keeps) into the
 *		conjuncts with a subquery, each a semi- or anti-join whose D goes
 *		into *rels, and the others, returned.  No other expression may have
 *		a subquery.
 */
static char *
semi_joins(DtAnalysis *an, Query *query, List *join_quals, List **rels, List **others)
{
	ListCell   *lc;
	char	   *reason;

	*rels = *others = NIL;
	foreach(lc, make_ands_implicit((Expr *) query->jointree->quals))
	{
		DtFromRel  *rel = NULL;

		if (!checkExprHasSubLink((Node *) lfirst(lc)))
			*others = lappend(*others, lfirst(lc));
		else if ((reason = semi_join_rel(an, query, (Node *) lfirst(lc), &rel)) != NULL)
			return reason;
		else
			*rels = lappend(*rels, rel);
	}
	if (checkExprHasSubLink((Node *) join_quals) ||
		(!an->rank_subqueries && (checkExprHasSubLink((Node *) query->targetList) ||
								  checkExprHasSubLink(query->havingQual))))
		return pstrdup("subqueries in the select list, HAVING or JOIN ... ON");
	return NULL;
}

/*
 * rows_comparable
 *		Why the rows a refresh reads of an input, its captured columns,
 *		cannot be compared as a multiset (deparse.c takes the window's rows
 *		out of the table's with EXCEPT ALL), or NULL.
 */
static char *
rows_comparable(DtInput *input)
{
	int			attnum = -1;

	while ((attnum = bms_next_member(input->attnums, attnum)) >= 0)
	{
		AttrNumber	a = attnum + FirstLowInvalidHeapAttributeNumber;
		Oid			type = get_atttype(input->relid, a);

		if (a <= 0 || !has_btree_opclass(type))
			return psprintf("a subquery over \"%s\", whose column \"%s\" has a type without a default btree operator class",
							get_rel_name(input->relid), get_attname(input->relid, a, false));
	}
	return NULL;
}

/*
 * reads_columns
 *		The columns of relation varno that node reads are read through rel
 *		(varno: of D, its subquery's table), and captured.
 */
static void
reads_columns(DtFromRel *rel, Node *node, Index varno)
{
	querytree_varattnos(node, varno, &rel->attnums);
	rel->input->attnums = bms_add_members(rel->input->attnums, rel->attnums);
}

/* reads_table: is a relation of a FROM list (of DtFromRel) a table? */
static bool
reads_table(List *rels)
{
	ListCell   *lc;

	foreach(lc, rels)
	{
		if (((DtFromRel *) lfirst(lc))->input != NULL)
			return true;
	}
	return false;
}

/*
 * merge_analyze
 *		Fill the delta-merge plan of an, or return why the query has none.
 *		Works on a copy of the query whose outputs refer to the joined
 *		relations directly (no join alias Vars), which becomes an->query.
 */
char *
merge_analyze(Query *query, DtAnalysis *an)
{
	ListCell   *lc;
	DtFromWalk	walk = {0};
	List	   *quals;
	List	   *semi_rels;
	List	   *where;
	List	   *state_exprs;
	char	   *reason;

	if ((reason = level_reason(query)) != NULL)
		return reason;
	foreach(lc, query->jointree->fromlist)
	{
		reason = querytree_walk_from(an->inputs, query, (Node *) lfirst(lc), &walk, NULL);
		if (reason != NULL)
			return reason;
	}
	an->from = walk.rels;
	quals = walk.quals;
	if (!query->hasAggs && query->groupClause == NIL)
		return pstrdup("queries without aggregation");

	query = copyObject(query);
	if ((reason = semi_joins(an, query, quals, &semi_rels, &where)) != NULL)
		return reason;
	quals = list_concat(quals, where);
	an->quals = querytree_flatten_joins(query, (Node *) make_ands_explicit(quals));
	if (quals == NIL)
		an->quals = NULL;
	/* D of each semi-join first (deparse.c reads D as it was seldom) */
	an->from = list_concat(semi_rels, an->from);
	if (!reads_table(an->from))
		return pstrdup("queries that read no table");
	query->targetList = (List *) querytree_flatten_joins(query, (Node *) query->targetList);
	query->havingQual = querytree_flatten_joins(query, query->havingQual);
	an->query = query;

	if ((reason = collect_keys(query, an)) != NULL ||
		(reason = collect_aggregates(query, an)) != NULL ||
		(reason = functions_reason(query, an, &state_exprs)) != NULL)
		return reason;

	/* The columns that the change rows must carry, of every relation. */
	foreach(lc, an->from)
	{
		DtFromRel  *rel = (DtFromRel *) lfirst(lc);

		if (rel->semi != NULL)
		{
			Query	   *eval = rel->semi->eval;

			reads_columns(rel, (Node *) list_make2(rel->semi->inner_keys, rel->semi->local_quals),
						  rel->semi->sub_rtindex);
			if (eval != NULL)
				reads_columns(rel, (Node *) list_make2(eval->targetList, eval->havingQual),
							  rel->semi->sub_rtindex);
			state_exprs = lappend(state_exprs, rel->semi->join_quals);
		}
	}
	foreach(lc, an->from)
	{
		DtFromRel  *rel = (DtFromRel *) lfirst(lc);

		if (rel->semi == NULL && rel->input != NULL)
			reads_columns(rel, (Node *) state_exprs, rel->rtindex);
	}
	foreach(lc, an->from)
	{
		DtFromRel  *rel = (DtFromRel *) lfirst(lc);

		if (rel->semi != NULL && rel->semi->eval != NULL && (reason = rows_comparable(rel->input)) != NULL)
			return reason;
	}
	return NULL;
}

/*
 * merge_shaped
 *		Is the query of the shape delta merge maintains, one grouped level
 *		over relations?  Then why merge refused it says more than why no
 *		column partitions it.
 */
bool
merge_shaped(Query *query)
{
	ListCell   *lc;

	if (query->setOperations != NULL || query->cteList != NIL || query->hasWindowFuncs ||
		query->hasDistinctOn ||
		(!query->hasAggs && query->groupClause == NIL))
		return false;
	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		if (rte->rtekind != RTE_RELATION && rte->rtekind != RTE_JOIN)
			return false;
	}
	return true;
}
