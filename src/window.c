/*-------------------------------------------------------------------------
 *
 * window.c
 *		Rank-bounded windows: a grouped query over a window subquery whose
 *		aggregates read the rank only as "rank <= k", rewritten into the
 *		one grouped level that delta merge maintains.
 *
 * Seed 000's DT_TEMPLATE_STATISTICS numbers each template's rows with
 * row_number() OVER (PARTITION BY template ORDER BY start_time DESC) in a
 * WITH query, aggregates them per template (most aggregates over every
 * row, a few over the rows ranked 10 or better), and selects expressions
 * of those aggregates.  window_rank_rewrite gives the same rows from one
 * grouped level, by three rewrites:
 *
 *	1. WITH queries become subqueries in FROM (querytree_inline_ctes);
 *	2. a level that selects expressions from one grouped subquery, under
 *	   conditions, is folded into it: its outputs computed from the keys
 *	   and aggregates, its conditions in HAVING (fold_projection);
 *	3. a level grouped by the PARTITION BY of the window subquery it reads,
 *	   whose aggregates read its rank (row_number(), rank() or dense_rank())
 *	   only where a bound on it makes them ignore the rows ranked beyond k,
 *	   replaces each such aggregate with a subquery of one group: the same
 *	   aggregate over the group's rows ranked k or better, read in the
 *	   window's order (through an index on the partition and order
 *	   expressions, a probe per group) up to the first row ranked beyond
 *	   (bound_rows), numbered by the same window (rank_bounded).  The
 *	   window leaves the subquery, which querytree_pull_up then merges
 *	   into the level.
 *
 * A subquery of step 3 is correlated with the group key only, and reads
 * the rows of its group only: its value changes only when a row of its
 * group changes, that is for the groups a refresh's changes touch.  Delta
 * merge keeps it as an aggregate of kind DT_AGG_RANKED (merge.c), whose
 * state is its value, computed again for the touched groups (deparse.c):
 * the cost follows the change, not the partitions' sizes.  The other
 * aggregates merge as usual.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relation.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_agg.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"

#include "analysis.h"

/* ---------------------------------------------------------------------
 * 2. A projection over a grouped subquery, folded into it
 * ---------------------------------------------------------------------
 */

/*
 * plain_level
 *		Has query no clause of its own but a select list, FROM and WHERE:
 *		no aggregate, grouping, window, DISTINCT, ORDER BY, LIMIT, set
 *		operation, WITH query, row lock, set-returning function or
 *		subquery in an expression?
 */
static bool
plain_level(Query *query)
{
	return query->commandType == CMD_SELECT && query->setOperations == NULL &&
		!query->hasAggs && query->groupClause == NIL && query->groupingSets == NIL &&
		query->havingQual == NULL && !query->hasWindowFuncs && !query->hasTargetSRFs &&
		query->distinctClause == NIL && query->sortClause == NIL &&
		query->limitCount == NULL && query->limitOffset == NULL && query->rowMarks == NIL &&
		query->cteList == NIL && !query->hasSubLinks && query->jointree->fromlist != NIL;
}

/* only_subquery: the subquery that is the only FROM item of query, or NULL. */
static Query *
only_subquery(Query *query)
{
	RangeTblRef *ref;
	RangeTblEntry *rte;

	if (list_length(query->jointree->fromlist) != 1 || list_length(query->rtable) != 1 ||
		!IsA(linitial(query->jointree->fromlist), RangeTblRef))
		return NULL;
	ref = linitial_node(RangeTblRef, query->jointree->fromlist);
	rte = rt_fetch(ref->rtindex, query->rtable);
	if (rte->rtekind != RTE_SUBQUERY || rte->lateral || rte->subquery->commandType != CMD_SELECT)
		return NULL;
	return rte->subquery;
}

/*
 * grouped_level
 *		Is query one grouped level, without grouping sets, window, DISTINCT,
 *		ORDER BY, LIMIT, set operation, WITH query, row lock, set-returning
 *		function or subquery in an expression?
 */
static bool
grouped_level(Query *query)
{
	return query->commandType == CMD_SELECT && query->setOperations == NULL &&
		(query->hasAggs || query->groupClause != NIL) && query->groupingSets == NIL &&
		!query->hasWindowFuncs && !query->hasTargetSRFs && query->distinctClause == NIL &&
		query->sortClause == NIL && query->limitCount == NULL && query->limitOffset == NULL &&
		query->rowMarks == NIL && query->cteList == NIL && !query->hasSubLinks;
}

/*
 * fold_projection
 *		SELECT f(c) FROM (SELECT k, aggregates ... GROUP BY k) s WHERE p(c)
 *		as the grouped level SELECT f(...) ... GROUP BY k HAVING p(...): the
 *		outer level's columns replaced by the subquery's expressions.  Its
 *		output columns that are a GROUP BY column of the subquery are its
 *		group keys; a GROUP BY column it leaves out becomes a junk column
 *		(which merge.c refuses).  NULL if query is not of that shape.
 */
static Query *
fold_projection(Query *query)
{
	Query	   *sub = only_subquery(query);
	Query	   *folded;
	List	   *tlist;
	Node	   *where;
	Bitmapset  *used = NULL;
	ListCell   *lc;
	ListCell   *lo;
	bool		sublinks = false;

	if (sub == NULL || !plain_level(query) || !grouped_level(sub))
		return NULL;
	tlist = (List *) ReplaceVarsFromTargetList((Node *) copyObject(query->targetList), 1, 0,
											   rt_fetch(1, query->rtable), sub->targetList,
											   REPLACEVARS_REPORT_ERROR, 0, &sublinks);
	where = ReplaceVarsFromTargetList(copyObject(query->jointree->quals), 1, 0,
									  rt_fetch(1, query->rtable), sub->targetList,
									  REPLACEVARS_REPORT_ERROR, 0, &sublinks);
	forboth(lc, tlist, lo, query->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		Var		   *var = (Var *) lfirst_node(TargetEntry, lo)->expr;
		TargetEntry *subtle;

		tle->ressortgroupref = 0;
		if (!IsA(var, Var) || var->varlevelsup != 0 || var->varattno <= 0)
			continue;
		subtle = get_tle_by_resno(sub->targetList, var->varattno);
		if (subtle->ressortgroupref != 0 && !bms_is_member(subtle->ressortgroupref, used))
		{
			tle->ressortgroupref = subtle->ressortgroupref;
			used = bms_add_member(used, subtle->ressortgroupref);
		}
	}
	foreach(lc, sub->targetList)
	{
		TargetEntry *subtle = lfirst_node(TargetEntry, lc);

		if (subtle->ressortgroupref != 0 && !bms_is_member(subtle->ressortgroupref, used))
		{
			TargetEntry *junk = copyObject(subtle);

			junk->resno = list_length(tlist) + 1;
			junk->resjunk = true;
			tlist = lappend(tlist, junk);
		}
	}
	folded = copyObject(sub);
	folded->targetList = tlist;
	if (where != NULL)
		folded->havingQual = folded->havingQual == NULL ? where
			: (Node *) make_andclause(list_make2(folded->havingQual, where));
	folded->hasSubLinks = sublinks;
	return folded;
}

/* ---------------------------------------------------------------------
 * 3. Aggregates over the first k rows of a window's partitions
 * ---------------------------------------------------------------------
 */

/* The window subquery a grouped level reads (window_shape). */
typedef struct RankWindow
{
	Query	   *level;			/* the grouped level */
	Query	   *window;			/* its subquery, with the window */
	Index		winref;			/* its one window */
	Bitmapset  *ranks;			/* the subquery's rank columns */
	Oid			rankfn;			/* row_number(), rank() or dense_rank() */
	Expr	   *partition;		/* the window's PARTITION BY expression */
	AttrNumber	key_attno;		/* the subquery's column the level groups by */
	Oid			eqop;			/* the grouping's equality */
	bool		not_null;		/* the subquery's WHERE rejects a NULL key */
	char	   *reason;			/* why a use of the rank is not bounded */
} RankWindow;

/*
 * window_shape
 *		Is level grouped by one column of the one subquery it reads, whose
 *		only window functions are one of row_number(), rank() and
 *		dense_rank() over one window partitioned by that column (and
 *		ordered)?  Fills *rw.
 */
static bool
window_shape(Query *level, RankWindow *rw)
{
	Query	   *sub = only_subquery(level);
	WindowClause *wc = NULL;
	SortGroupClause *group;
	TargetEntry *gtle;
	ListCell   *lc;

	if (sub == NULL || !grouped_level(level) || list_length(level->groupClause) != 1 ||
		!sub->hasWindowFuncs || sub->hasAggs || sub->groupClause != NIL || sub->groupingSets != NIL ||
		sub->havingQual != NULL || sub->setOperations != NULL || sub->hasTargetSRFs ||
		sub->distinctClause != NIL || sub->limitCount != NULL || sub->limitOffset != NULL ||
		sub->rowMarks != NIL || sub->cteList != NIL || sub->hasSubLinks || sub->jointree->fromlist == NIL)
		return false;
	memset(rw, 0, sizeof(RankWindow));
	rw->level = level;
	rw->window = sub;
	foreach(lc, sub->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		WindowFunc *wf = (WindowFunc *) tle->expr;

		if (!contain_windowfuncs((Node *) tle->expr))
			continue;
		if (!IsA(wf, WindowFunc) || wf->args != NIL || wf->aggfilter != NULL ||
			(wf->winfnoid != F_ROW_NUMBER && wf->winfnoid != F_RANK_ && wf->winfnoid != F_DENSE_RANK_) ||
			(rw->winref != 0 && (wf->winref != rw->winref || wf->winfnoid != rw->rankfn)))
			return false;
		rw->winref = wf->winref;
		rw->rankfn = wf->winfnoid;
		rw->ranks = bms_add_member(rw->ranks, tle->resno);
	}
	foreach(lc, sub->windowClause)
	{
		if (lfirst_node(WindowClause, lc)->winref == rw->winref)
			wc = lfirst_node(WindowClause, lc);
	}
	if (wc == NULL || list_length(wc->partitionClause) != 1 || wc->orderClause == NIL)
		return false;
	rw->partition = (Expr *) get_sortgroupclause_expr(linitial_node(SortGroupClause, wc->partitionClause),
													  sub->targetList);
	group = linitial_node(SortGroupClause, level->groupClause);
	gtle = get_sortgroupclause_tle(group, level->targetList);
	if (!IsA(gtle->expr, Var) || ((Var *) gtle->expr)->varlevelsup != 0 ||
		((Var *) gtle->expr)->varattno <= 0 ||
		!equal(get_tle_by_resno(sub->targetList, ((Var *) gtle->expr)->varattno)->expr, rw->partition) ||
		linitial_node(SortGroupClause, wc->partitionClause)->eqop != group->eqop)
		return false;
	rw->key_attno = ((Var *) gtle->expr)->varattno;
	rw->eqop = group->eqop;
	foreach(lc, make_ands_implicit((Expr *) sub->jointree->quals))
	{
		NullTest   *test = (NullTest *) lfirst(lc);

		if (IsA(test, NullTest) && test->nulltesttype == IS_NOT_NULL && !test->argisrow &&
			equal(test->arg, rw->partition))
			rw->not_null = true;
	}
	return true;
}

/* is_rank: is node a rank column of the window subquery? */
static bool
is_rank(Node *node, RankWindow *rw)
{
	return node != NULL && IsA(node, Var) && ((Var *) node)->varno == 1 &&
		((Var *) node)->varlevelsup == 0 && bms_is_member(((Var *) node)->varattno, rw->ranks);
}

/* reads_rank: does node read a rank column? */
static bool
reads_rank(Node *node, RankWindow *rw)
{
	if (node == NULL)
		return false;
	if (is_rank(node, rw))
		return true;
	return expression_tree_walker(node, reads_rank, rw);
}

/*
 * rank_bound
 *		Is cond "rank <= c", "rank < c", "rank = c" (or the same reversed)
 *		with an integer constant c?  *k: the largest rank it lets through.
 */
static bool
rank_bound(Node *cond, RankWindow *rw, int64 *k)
{
	OpExpr	   *op = (OpExpr *) cond;
	Const	   *c;
	int			strategy;
	int64		value;
	bool		flip;

	if (!IsA(op, OpExpr) || list_length(op->args) != 2)
		return false;
	flip = is_rank(lsecond(op->args), rw);
	if (!is_rank(flip ? lsecond(op->args) : linitial(op->args), rw))
		return false;
	c = (Const *) (flip ? linitial(op->args) : lsecond(op->args));
	if (!IsA(c, Const) || c->constisnull)
		return false;
	if (c->consttype == INT8OID)
		value = DatumGetInt64(c->constvalue);
	else if (c->consttype == INT4OID)
		value = DatumGetInt32(c->constvalue);
	else if (c->consttype == INT2OID)
		value = DatumGetInt16(c->constvalue);
	else
		return false;
	strategy = get_op_opfamily_strategy(op->opno, INTEGER_BTREE_FAM_OID);
	if (flip && strategy != BTEqualStrategyNumber)
		strategy = BTMaxStrategyNumber + 1 - strategy;
	if (strategy == BTLessStrategyNumber)
		*k = value - 1;
	else if (strategy == BTLessEqualStrategyNumber || strategy == BTEqualStrategyNumber)
		*k = value;
	else
		return false;
	*k = Max(*k, 0);
	return true;
}

/* bounded_by: is a conjunct of cond a rank_bound?  *k: the smallest. */
static bool
bounded_by(Node *cond, RankWindow *rw, int64 *k)
{
	bool		found = false;
	ListCell   *lc;

	foreach(lc, make_ands_implicit((Expr *) cond))
	{
		int64		bound;

		if (rank_bound((Node *) lfirst(lc), rw, &bound))
		{
			*k = found ? Min(*k, bound) : bound;
			found = true;
		}
	}
	return found;
}

/*
 * null_beyond
 *		Is expr NULL for every row ranked beyond *k: CASE WHEN <bounded> THEN
 *		... [WHEN <bounded> THEN ...] [ELSE NULL] END?
 */
static bool
null_beyond(Node *expr, RankWindow *rw, int64 *k)
{
	CaseExpr   *ce = (CaseExpr *) expr;
	ListCell   *lc;

	if (!IsA(ce, CaseExpr) || ce->arg != NULL ||
		(ce->defresult != NULL && !(IsA(ce->defresult, Const) && ((Const *) ce->defresult)->constisnull)))
		return false;
	*k = 0;
	foreach(lc, ce->args)
	{
		int64		bound;

		if (!bounded_by((Node *) lfirst_node(CaseWhen, lc)->expr, rw, &bound))
			return false;
		*k = Max(*k, bound);
	}
	return true;
}

/*
 * ignores_nulls
 *		Does aggregate aggref skip rows whose arguments are NULL: a plain
 *		aggregate whose transition function is strict, or one of the
 *		built-in ones whose non-strict transition functions skip them?
 */
static bool
ignores_nulls(Aggref *aggref)
{
	static const char *const skipping[] = {"sum", "avg", "variance", "var_samp", "var_pop",
	"stddev", "stddev_samp", "stddev_pop"};
	HeapTuple	tup;
	Form_pg_aggregate form;
	bool		result;
	char	   *name;
	int			i;

	if (aggref->aggkind != AGGKIND_NORMAL || aggref->aggstar || aggref->args == NIL)
		return false;
	tup = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggref->aggfnoid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for aggregate %u", aggref->aggfnoid);
	form = (Form_pg_aggregate) GETSTRUCT(tup);
	result = func_strict(form->aggtransfn);
	ReleaseSysCache(tup);
	if (!result && (name = querytree_catalog_name(aggref->aggfnoid)) != NULL)
	{
		for (i = 0; i < lengthof(skipping); i++)
			result |= (strcmp(name, skipping[i]) == 0);
	}
	return result;
}

/*
 * aggregate_bound
 *		Does aggref read only the rows ranked k or better, by its FILTER or
 *		because an argument is NULL beyond rank k and it skips NULLs?
 */
static bool
aggregate_bound(Aggref *aggref, RankWindow *rw, int64 *k)
{
	ListCell   *lc;

	if (aggref->aggfilter != NULL && bounded_by((Node *) aggref->aggfilter, rw, k))
		return true;
	if (!ignores_nulls(aggref))
		return false;
	foreach(lc, aggref->args)
	{
		if (null_beyond((Node *) lfirst_node(TargetEntry, lc)->expr, rw, k))
			return true;
	}
	return false;
}

/* is_null_test: expr IS NULL. */
static Expr *
is_null_test(Expr *expr)
{
	NullTest   *test = makeNode(NullTest);

	test->arg = expr;
	test->nulltesttype = IS_NULL;
	test->location = -1;
	return (Expr *) test;
}

/*
 * unknown_limit
 *		A LIMIT that cuts nothing, which the planner cannot estimate:
 *		(SELECT <the largest bigint>).  Expecting to read a tenth of the
 *		rows, it plans to read them in an index's order, not to sort them.
 */
static Node *
unknown_limit(void)
{
	Query	   *q = makeNode(Query);
	SubLink    *sublink = makeNode(SubLink);

	q->commandType = CMD_SELECT;
	q->canSetTag = true;
	q->jointree = makeFromExpr(NIL, NULL);
	q->targetList = list_make1(makeTargetEntry((Expr *) makeConst(INT8OID, -1, InvalidOid, sizeof(int64),
																  Int64GetDatum(PG_INT64_MAX), false,
																  FLOAT8PASSBYVAL),
											   1, pstrdup("all"), false));
	sublink->subLinkType = EXPR_SUBLINK;
	sublink->subselect = (Node *) q;
	sublink->location = -1;
	return (Node *) sublink;
}

/*
 * read_in_order
 *		Make the window of rows (the window subquery of one group, ordered
 *		by the window's order) number the rows of a subquery of its own,
 *		which reads them in that order with unknown_limit: where the
 *		window's run condition stops at the first row ranked beyond k,
 *		the rows after it are never read, if an index gives that order.
 */
static void
read_in_order(RankWindow *rw, Query *rows)
{
	Query	   *inner = copyObject(rows);
	RangeTblEntry *rte = makeNode(RangeTblEntry);
	RangeTblRef *ref = makeNode(RangeTblRef);
	List	   *colnames = NIL;
	ListCell   *lc;

	IncrementVarSublevelsUp((Node *) inner, 1, 1);
	inner->windowClause = NIL;
	inner->hasWindowFuncs = false;
	inner->limitCount = unknown_limit();
	inner->limitOption = LIMIT_OPTION_COUNT;
	inner->hasSubLinks = true;
	foreach(lc, inner->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (bms_is_member(tle->resno, rw->ranks))
			tle->expr = (Expr *) makeNullConst(INT8OID, -1, InvalidOid);
		/* an ORDER BY expression too: the window orders by its column */
		if (tle->resjunk || tle->resname == NULL)
			tle->resname = psprintf("c%d", tle->resno);
		tle->resjunk = false;
		colnames = lappend(colnames, makeString(pstrdup(tle->resname)));
	}
	rte->rtekind = RTE_SUBQUERY;
	rte->subquery = inner;
	rte->eref = makeAlias("ordered", colnames);
	rte->inFromCl = true;
	ref->rtindex = 1;
	rows->rtable = list_make1(rte);
	rows->jointree = makeFromExpr(list_make1(ref), NULL);
	foreach(lc, rows->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (!bms_is_member(tle->resno, rw->ranks))
			tle->expr = (Expr *) makeVarFromTargetEntry(1, list_nth_node(TargetEntry, inner->targetList,
																		 tle->resno - 1));
	}
}

/*
 * bound_rows
 *		Make rows, the window subquery of one group in the window's order,
 *		read only the rows ranked k or better, and return the condition the
 *		level reading it needs for that (NULL if none): for row_number()
 *		the first k rows (LIMIT k), for rank() those and the rows tied with
 *		the k-th (FETCH FIRST k ROWS WITH TIES: a row's rank is one more
 *		than the rows before its ties), for dense_rank() "rank <= k" over
 *		the subquery, which the planner makes the window's run condition
 *		(the window stops at the first row beyond, read_in_order).
 */
static Node *
bound_rows(RankWindow *rw, Query *rows, int64 k)
{
	Const	   *bound = makeConst(INT8OID, -1, InvalidOid, sizeof(int64), Int64GetDatum(k), false,
								  FLOAT8PASSBYVAL);
	Expr	   *cond;

	if (rw->rankfn != F_DENSE_RANK_)
	{
		rows->limitCount = (Node *) bound;
		rows->limitOption = rw->rankfn == F_RANK_ ? LIMIT_OPTION_WITH_TIES : LIMIT_OPTION_COUNT;
		return NULL;
	}
	read_in_order(rw, rows);
	cond = make_opclause(get_opfamily_member(INTEGER_BTREE_FAM_OID, INT8OID, INT8OID, BTLessEqualStrategyNumber),
						 BOOLOID, false,
						 (Expr *) makeVar(1, bms_next_member(rw->ranks, -1), INT8OID, -1, InvalidOid, 0),
						 (Expr *) bound, InvalidOid, InvalidOid);
	set_opfuncid((OpExpr *) cond);
	return (Node *) cond;
}

/*
 * group_rows_subquery
 *		The subquery computing aggref over the first k rows of one group:
 *		the level with aggref as its only output, no grouping, reading the
 *		window subquery of that group only (its key equal to the level's
 *		group key, two levels up; with null_key, both NULL), in the
 *		window's order, LIMIT k.  The partition is one group, so the
 *		window needs no PARTITION BY.
 */
static SubLink *
group_rows_subquery(RankWindow *rw, Aggref *aggref, int64 k, bool null_key)
{
	Query	   *rows = copyObject(rw->window);
	Query	   *group = copyObject(rw->level);
	Expr	   *partition = copyObject(rw->partition);
	Var		   *outer = makeVar(1, rw->key_attno, exprType((Node *) partition),
								exprTypmod((Node *) partition), exprCollation((Node *) partition), 2);
	SubLink    *sublink = makeNode(SubLink);
	Node	   *match;
	ListCell   *lc;

	if (null_key)
		match = (Node *) make_andclause(list_make2(is_null_test(partition), is_null_test((Expr *) outer)));
	else
	{
		match = (Node *) make_opclause(rw->eqop, BOOLOID, false, partition, (Expr *) outer,
									   InvalidOid, exprCollation((Node *) partition));
		set_opfuncid((OpExpr *) match);
	}
	rows->jointree->quals = rows->jointree->quals == NULL ? match : make_and_qual(rows->jointree->quals, match);
	foreach(lc, rows->windowClause)
	{
		WindowClause *wc = lfirst_node(WindowClause, lc);

		if (wc->winref == rw->winref)
		{
			wc->partitionClause = NIL;
			rows->sortClause = copyObject(wc->orderClause);
		}
	}

	group->targetList = list_make1(makeTargetEntry((Expr *) copyObject(aggref), 1, pstrdup("value"), false));
	group->jointree->quals = make_and_qual(group->jointree->quals, bound_rows(rw, rows, k));
	group->groupClause = NIL;
	group->havingQual = NULL;
	group->hasAggs = true;
	group->hasSubLinks = false;
	rt_fetch(1, group->rtable)->subquery = rows;

	sublink->subLinkType = EXPR_SUBLINK;
	sublink->subselect = (Node *) group;
	sublink->location = -1;
	return sublink;
}

/*
 * rank_mutator
 *		An output or HAVING expression of the level with each aggregate
 *		that reads the rank replaced by group_rows_subquery (and, where the
 *		key may be NULL, CASE WHEN key IS NULL THEN its NULL variant ...);
 *		rw->reason set by a use of the rank that no bound makes one.
 */
static Node *
rank_mutator(Node *node, RankWindow *rw)
{
	if (node == NULL || rw->reason != NULL)
		return node;
	if (IsA(node, Aggref) && reads_rank(node, rw))
	{
		Aggref	   *aggref = (Aggref *) node;
		int64		k;
		CaseExpr   *ce;
		CaseWhen   *when;

		if (aggref->agglevelsup != 0 || !aggregate_bound(aggref, rw, &k))
		{
			rw->reason = psprintf("aggregates of %s() other than over the rows it ranks k or better "
								  "(FILTER (WHERE rank <= k), or CASE WHEN rank <= k THEN ... END in an aggregate that skips NULLs)",
								  get_func_name(rw->rankfn));
			return node;
		}
		if (rw->not_null)
			return (Node *) group_rows_subquery(rw, aggref, k, false);
		when = makeNode(CaseWhen);
		when->expr = is_null_test((Expr *) makeVar(1, rw->key_attno, exprType((Node *) rw->partition),
												   exprTypmod((Node *) rw->partition),
												   exprCollation((Node *) rw->partition), 0));
		when->result = (Expr *) group_rows_subquery(rw, aggref, k, true);
		when->location = -1;
		ce = makeNode(CaseExpr);
		ce->casetype = aggref->aggtype;
		ce->casecollid = aggref->aggcollid;
		ce->args = list_make1(when);
		ce->defresult = (Expr *) group_rows_subquery(rw, aggref, k, false);
		ce->location = -1;
		return (Node *) ce;
	}
	if (is_rank(node, rw))
	{
		rw->reason = psprintf("%s() outside an aggregate", get_func_name(rw->rankfn));
		return node;
	}
	return expression_tree_mutator(node, rank_mutator, rw);
}

/*
 * index_matches
 *		Do the first columns of index find the rows of one partition key in
 *		the window's order (or its reverse): (partition, order...)?
 */
static bool
index_matches(Relation index, List *keys, List *descending, List *nulls_first)
{
	Form_pg_index form = index->rd_index;
	List	   *exprs = RelationGetIndexExpressions(index); /* a new copy */
	ListCell   *expr = list_head(exprs);
	int			reversed = -1;
	int			i;

	if (!form->indisvalid || RelationGetIndexPredicate(index) != NIL ||
		form->indnkeyatts < list_length(keys) || index->rd_rel->relam != BTREE_AM_OID)
		return false;
	for (i = 0; i < list_length(keys); i++)
	{
		Node	   *key = list_nth(keys, i);
		AttrNumber	attno = form->indkey.values[i];
		bool		desc = (index->rd_indoption[i] & INDOPTION_DESC) != 0;
		bool		nf = (index->rd_indoption[i] & INDOPTION_NULLS_FIRST) != 0;
		int			rev;

		if (attno != 0 ? !(IsA(key, Var) && ((Var *) key)->varattno == attno) : !equal(lfirst(expr), key))
			return false;
		if (attno == 0)
			expr = lnext(exprs, expr);
		if (i == 0)
			continue;
		if (desc == list_nth_int(descending, i) && nf == list_nth_int(nulls_first, i))
			rev = 0;
		else if (desc != list_nth_int(descending, i) && nf != list_nth_int(nulls_first, i))
			rev = 1;
		else
			return false;
		if (reversed >= 0 && rev != reversed)
			return false;
		reversed = rev;
	}
	return true;
}

/*
 * missing_index_sql
 *		Where the window subquery reads one table: NULL if an index on it
 *		finds a partition's rows in the window's order, else the CREATE
 *		INDEX that would.  NULL too where it reads more.
 */
static char *
missing_index_sql(RankWindow *rw)
{
	Query	   *sub = rw->window;
	RangeTblRef *ref = (RangeTblRef *) linitial(sub->jointree->fromlist);
	RangeTblEntry *rte;
	List	   *keys = NIL;
	List	   *descending = list_make1_int(false);
	List	   *nulls_first = list_make1_int(false);
	List	   *ctx;
	StringInfoData s;
	Relation	rel;
	ListCell   *lc;
	bool		found = false;

	if (list_length(sub->jointree->fromlist) != 1 || !IsA(ref, RangeTblRef))
		return NULL;
	rte = rt_fetch(ref->rtindex, sub->rtable);
	if (rte->rtekind != RTE_RELATION || rte->relkind != RELKIND_RELATION)
		return NULL;
	keys = lappend(keys, copyObject(rw->partition));
	foreach(lc, sub->windowClause)
	{
		WindowClause *wc = lfirst_node(WindowClause, lc);
		ListCell   *lo;

		if (wc->winref != rw->winref)
			continue;
		foreach(lo, wc->orderClause)
		{
			SortGroupClause *sgc = lfirst_node(SortGroupClause, lo);
			Oid			family;
			Oid			type;
			int16		strategy;

			keys = lappend(keys, copyObject(get_sortgroupclause_expr(sgc, sub->targetList)));
			if (!get_ordering_op_properties(sgc->sortop, &family, &type, &strategy))
				return NULL;
			descending = lappend_int(descending, strategy == BTGreaterStrategyNumber);
			nulls_first = lappend_int(nulls_first, sgc->nulls_first);
		}
	}
	if (bms_num_members(pull_varnos(NULL, (Node *) keys)) != 1 || contain_vars_of_level((Node *) keys, 1))
		return NULL;
	ChangeVarNodes((Node *) keys, ref->rtindex, 1, 0);

	rel = table_open(rte->relid, AccessShareLock);
	foreach(lc, RelationGetIndexList(rel))
	{
		Relation	index = index_open(lfirst_oid(lc), AccessShareLock);

		found |= index_matches(index, keys, descending, nulls_first);
		index_close(index, AccessShareLock);
	}
	table_close(rel, AccessShareLock);
	if (found)
		return NULL;

	ctx = deparse_context_for(get_rel_name(rte->relid), rte->relid);
	initStringInfo(&s);
	appendStringInfo(&s, "CREATE INDEX ON %s (",
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(rte->relid)),
												get_rel_name(rte->relid)));
	foreach(lc, keys)
	{
		int			i = foreach_current_index(lc);
		char	   *text = settings_print_expression(lfirst(lc), ctx, false);

		appendStringInfo(&s, i > 0 ? ", " : "");
		appendStringInfo(&s, IsA(lfirst(lc), Var) ? "%s" : "(%s)", text);
		if (list_nth_int(descending, i))
			appendStringInfoString(&s, list_nth_int(nulls_first, i) ? " DESC" : " DESC NULLS LAST");
		else if (list_nth_int(nulls_first, i))
			appendStringInfoString(&s, " NULLS FIRST");
	}
	appendStringInfoChar(&s, ')');
	return s.data;
}

/*
 * rank_bounded
 *		The grouped level over a window subquery with its aggregates of the
 *		rank replaced (rank_mutator), and the window taken out of the
 *		subquery (its rank columns, read by nothing now, NULL), or
 *		NULL if the level is not of that shape.  *index_sql:
 *		missing_index_sql.
 */
static Query *
rank_bounded(Query *level, char **index_sql)
{
	RankWindow	rw;
	Query	   *result;
	Query	   *rows;
	ListCell   *lc;

	if (!window_shape(level, &rw) || reads_rank(level->jointree->quals, &rw))
		return NULL;
	result = copyObject(level);
	result->targetList = (List *) rank_mutator((Node *) result->targetList, &rw);
	result->havingQual = rank_mutator(result->havingQual, &rw);
	if (rw.reason != NULL)
		return NULL;
	result->hasSubLinks = true;

	rows = rt_fetch(1, result->rtable)->subquery;
	foreach(lc, rows->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (bms_is_member(tle->resno, rw.ranks))
			tle->expr = (Expr *) makeNullConst(INT8OID, -1, InvalidOid);
	}
	rows->windowClause = NIL;
	rows->hasWindowFuncs = false;
	*index_sql = missing_index_sql(&rw);
	return result;
}

/*
 * window_rank_rewrite
 *		The defining query as one grouped level whose aggregates over the
 *		first k rows of each group are subqueries of one group (see the top
 *		of this file), for querytree_pull_up and merge_analyze; NULL if it
 *		has no such window.  *index_sql: the CREATE INDEX that would make
 *		those subqueries a probe each, when no index does (else NULL).
 */
Query *
window_rank_rewrite(Query *query, char **index_sql)
{
	Query	   *level = querytree_inline_ctes(query);
	Query	   *folded;

	*index_sql = NULL;
	if (level == NULL)
		return NULL;
	folded = fold_projection(level);
	return rank_bounded(folded != NULL ? folded : level, index_sql);
}
