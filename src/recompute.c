/*-------------------------------------------------------------------------
 *
 * recompute.c
 *		Affected-key recompute: the incremental strategy for the queries that
 *		delta merge does not maintain (DESIGN.md, principle 4).  Which
 *		output columns partition the query, and the query that recomputes
 *		some partitions; deparse.c writes the SQL of its refreshes.
 *
 * A partition key is an output column K of the defining query such that
 * the rows with K = v are computed only from base rows whose key
 * expression is v.  Such a DT is refreshed by finding the keys that the
 * changes in the window touch, deleting the DT's rows with those keys and
 * computing them again from the query with the keys pushed down to the
 * base scans: the cost follows the rows of the touched partitions.
 *
 * The key is traced from the output column down the query:
 *
 *	- through a level with GROUP BY, it must be a grouping expression that
 *	  is in every grouping set; through window functions, in every window's
 *	  PARTITION BY; through DISTINCT ON, one of its expressions (plain
 *	  DISTINCT, WHERE, HAVING, ORDER BY and set-returning functions keep
 *	  partitions apart as they are);
 *	- into the one subquery or WITH query (read once) of a level's FROM,
 *	  and into every branch of UNION, INTERSECT and EXCEPT;
 *	- to a branch where it is a constant: that level, whatever it reads,
 *	  is one partition (a leaf);
 *	- down to a level whose FROM reads tables joined by inner and LEFT
 *	  joins, and constants (a leaf): there the key is an expression over
 *	  one table, not on the nullable side of an outer join, and a
 *	  subquery in its WHERE reads one table t correlated with the key by
 *	  an equality t.k = key, whatever its other conditions (TPC-H Q21's
 *	  EXISTS and NOT EXISTS), so that a changed row of t touches key t.k;
 *	  or to x FULL
 *	  JOIN y on x.k = y.k, the key COALESCE(x.k, y.k): x.k over x, y.k
 *	  over y.
 *
 * The key is several columns when several grouped ones partition the query
 * (GROUP BY a, b): each column's keys are found on their own, and a
 * refresh recomputes the rows whose every key column has one of them.
 *
 * Every table the query reads must be in a leaf, and no level above a
 * leaf may have a LIMIT or a subquery in an expression: those read beyond
 * one partition.
 *
 * A query ORDER BY ... LIMIT over one relation is recomputed whole, as one
 * partition, when the relation changed (recompute_top_k): the internal
 * DT of a query without its LIMIT (internal.c) is such a relation.
 * The leaves keep what a refresh needs to find the keys a window touched
 * (deparse_recompute_keys_sql): for the key's own table, the key of each
 * changed row (before and after); for another table of the leaf, the keys
 * of the rows that its changed rows join, the other tables read as they
 * are now and as they were, under the join conditions that see no
 * null-extended rows (a superset of the keys is harmless).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "optimizer/optimizer.h"
#include "optimizer/prep.h"
#include "parser/parse_agg.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/typcache.h"

#include "analysis.h"

static char *trace_column(DtAnalysis *an, Query *query, AttrNumber resno, List *levels,
						  List **leaves, bool *grouped);

/*
 * functions_reason
 *		Why the functions of a query rule affected-key recompute out, or
 *		NULL: a user-defined function that is not IMMUTABLE anywhere, the
 *		clock anywhere but in the select list (where it is the time of the
 *		refresh that wrote the row).
 */
static char *
functions_reason(Query *query)
{
	DtFunctionFacts facts = querytree_facts((Node *) query);

	if (OidIsValid(facts.user_stable))
		return psprintf("function %s, which is not IMMUTABLE", format_procedure(facts.user_stable));
	if (querytree_clock_outside_select_list(query))
		return pstrdup("the current time (now(), CURRENT_TIMESTAMP, ...) outside the select list");
	return NULL;
}

/*
 * key_reason
 *		Why an expression over a table cannot be a partition key, or NULL:
 *		whole-row references and system columns, or the clock.
 */
static char *
key_reason(Node *expr)
{
	DtFunctionFacts facts = querytree_facts(expr);

	if (facts.whole_row)
		return pstrdup("whole-row references and system columns");
	if (facts.time)
		return pstrdup("the current time (now(), CURRENT_TIMESTAMP, ...) in a partition key");
	return NULL;
}

/* has_full_join: is there a FULL JOIN in a FROM list? */
static bool
has_full_join(Node *node)
{
	if (node == NULL)
		return false;
	if (IsA(node, FromExpr))
	{
		ListCell   *lc;

		foreach(lc, ((FromExpr *) node)->fromlist)
		{
			if (has_full_join((Node *) lfirst(lc)))
				return true;
		}
		return false;
	}
	if (IsA(node, JoinExpr))
		return ((JoinExpr *) node)->jointype == JOIN_FULL ||
			has_full_join(((JoinExpr *) node)->larg) || has_full_join(((JoinExpr *) node)->rarg);
	return false;
}

/*
 * full_join_side
 *		Is x one side's column of the equality x.k = y.k of the FULL JOIN
 *		join?  Then its rows with x.k = v come from the rows of x and y with
 *		k = v, but y's rows without a match have x.k NULL: x.k is a key
 *		(leaf->side) only with y.k beside it (recompute_analyze), the rows
 *		of the pair (v, v), (v, NULL), (NULL, v) and (NULL, NULL) computed
 *		again for the k of every change, NULL always among both keys.
 */
static bool
full_join_side(Query *query, JoinExpr *join, Var *x, DtKeyLeaf *leaf)
{
	Index		left = ((RangeTblRef *) join->larg)->rtindex;
	Index		right = ((RangeTblRef *) join->rarg)->rtindex;
	ListCell   *lc;

	if (x->varlevelsup != 0 || x->varattno <= 0 || (x->varno != left && x->varno != right))
		return false;
	foreach(lc, make_ands_implicit((Expr *) querytree_flatten_joins(query, join->quals)))
	{
		OpExpr	   *op = IsA(lfirst(lc), OpExpr) ? (OpExpr *) lfirst(lc) : NULL;
		Var		   *y;

		if (op == NULL || list_length(op->args) != 2 ||
			op->opno != lookup_type_cache(x->vartype, TYPECACHE_EQ_OPR)->eq_opr)
			continue;
		y = (Var *) (equal(linitial(op->args), x) ? lsecond(op->args) : linitial(op->args));
		if ((equal(linitial(op->args), x) || equal(lsecond(op->args), x)) && IsA(y, Var) &&
			y->varlevelsup == 0 && y->varattno > 0 && y->varno == (x->varno == left ? right : left) &&
			y->vartype == x->vartype && y->varcollid == x->varcollid)
		{
			leaf->expr = (Expr *) x;
			leaf->key_rtindex = x->varno;
			leaf->expr2 = (Expr *) y;
			leaf->key_rtindex2 = y->varno;
			leaf->side = true;
			return true;
		}
	}
	return false;
}

/*
 * full_join_key
 *		Is expr, COALESCE(x.k, y.k), the key of the FULL JOIN join (x FULL
 *		JOIN y ON x.k = y.k AND ..., or USING (k)): the rows with key v
 *		come only from the rows of x and of y whose k is v?  Then the two
 *		columns go into leaf.
 */
static bool
full_join_key(Query *query, JoinExpr *join, Expr *expr, DtKeyLeaf *leaf)
{
	CoalesceExpr *co = IsA(expr, CoalesceExpr) ? (CoalesceExpr *) expr : NULL;
	Var		   *x;
	Var		   *y = NULL;
	Oid			eq;
	ListCell   *lc;

	if (!IsA(join->larg, RangeTblRef) || !IsA(join->rarg, RangeTblRef))
		return false;
	if (IsA(expr, Var))
		return full_join_side(query, join, (Var *) expr, leaf);
	if (co == NULL || list_length(co->args) != 2 || !IsA(linitial(co->args), Var) ||
		!IsA(lsecond(co->args), Var))
		return false;
	x = linitial_node(Var, co->args);
	y = lsecond_node(Var, co->args);
	if (x->varlevelsup != 0 || y->varlevelsup != 0 || x->vartype != y->vartype ||
		x->varcollid != y->varcollid || x->varattno <= 0 || y->varattno <= 0 ||
		!((x->varno == ((RangeTblRef *) join->larg)->rtindex && y->varno == ((RangeTblRef *) join->rarg)->rtindex) ||
		  (y->varno == ((RangeTblRef *) join->larg)->rtindex && x->varno == ((RangeTblRef *) join->rarg)->rtindex)))
		return false;
	eq = lookup_type_cache(x->vartype, TYPECACHE_EQ_OPR)->eq_opr;
	foreach(lc, make_ands_implicit((Expr *) querytree_flatten_joins(query, join->quals)))
	{
		OpExpr	   *op = IsA(lfirst(lc), OpExpr) ? (OpExpr *) lfirst(lc) : NULL;

		if (op != NULL && op->opno == eq && list_length(op->args) == 2 &&
			((equal(linitial(op->args), x) && equal(lsecond(op->args), y)) ||
			 (equal(linitial(op->args), y) && equal(lsecond(op->args), x))))
		{
			leaf->expr = (Expr *) x;
			leaf->key_rtindex = x->varno;
			leaf->expr2 = (Expr *) y;
			leaf->key_rtindex2 = y->varno;
			return true;
		}
	}
	return false;
}

/*
 * trace_full_join
 *		The key reached a level with a FULL JOIN: it must be the level's
 *		only FROM item, a join of two tables, and the key COALESCE(x.k,
 *		y.k) of their equality x.k = y.k.
 */
static char *
trace_full_join(Query *query, Expr *expr, DtKeyLeaf *leaf, List **leaves)
{
	Node	   *item = linitial(query->jointree->fromlist);
	char	   *reason;

	if (query->hasSubLinks)
		return pstrdup("subqueries in expressions");
	if (list_length(query->jointree->fromlist) != 1 || !IsA(item, JoinExpr) ||
		((JoinExpr *) item)->jointype != JOIN_FULL ||
		!full_join_key(query, (JoinExpr *) item, expr, leaf) ||
		rt_fetch(leaf->key_rtindex, query->rtable)->rtekind != RTE_RELATION ||
		rt_fetch(leaf->key_rtindex2, query->rtable)->rtekind != RTE_RELATION)
		return pstrdup("FULL JOIN without a key COALESCE(x.k, y.k), or x.k and y.k, over two tables joined on x.k = y.k");
	if ((reason = key_reason((Node *) expr)) != NULL)
		return reason;
	*leaves = lappend(*leaves, leaf);
	return NULL;
}

/*
 * sublinks_outside_where
 *		Has a level subqueries but in its WHERE (in the select list, HAVING,
 *		a JOIN ... ON)?
 */
static bool
sublinks_outside_where(Query *query)
{
	Query		rest = *query;

	rest.jointree = makeFromExpr(query->jointree->fromlist, NULL);
	return checkExprHasSubLink((Node *) rest.targetList) || checkExprHasSubLink(rest.havingQual) ||
		checkExprHasSubLink((Node *) rest.jointree);
}

/*
 * key_correlation
 *		The inner side of a conjunct of sub's WHERE "inner = key" (the type's
 *		default equality, inner over sub's level only, key the leaf's key
 *		expr one level up), or NULL.  Only rows of sub whose inner is v then
 *		reach the rows of the leaf whose key is v.
 */
static Node *
key_correlation(Query *query, Query *sub, Expr *expr)
{
	ListCell   *lc;

	foreach(lc, make_ands_implicit((Expr *) sub->jointree->quals))
	{
		OpExpr	   *op = (OpExpr *) lfirst(lc);
		int			i;

		if (!IsA(op, OpExpr) || list_length(op->args) != 2 ||
			lookup_type_cache(exprType((Node *) expr), TYPECACHE_EQ_OPR)->eq_opr != op->opno)
			continue;
		for (i = 0; i < 2; i++)
		{
			Node	   *inner = (Node *) list_nth(op->args, i);
			Node	   *outer = copyObject((Node *) list_nth(op->args, 1 - i));

			if (!contain_vars_of_level(inner, 0) || contain_vars_of_level(inner, 1) ||
				contain_vars_of_level(outer, 0) || exprType(inner) != exprType((Node *) expr) ||
				exprCollation(inner) != exprCollation((Node *) expr))
				continue;
			IncrementVarSublevelsUp(outer, -1, 0);
			if (equal(querytree_flatten_joins(query, outer), expr))
				return inner;
		}
	}
	return NULL;
}

/*
 * leaf_sublinks
 *		The subqueries of a leaf level (query), which may be only in its
 *		WHERE: each must read one table, refer to no level above the leaf,
 *		and be correlated with the leaf's key by an equality (EXISTS (SELECT
 *		... FROM t WHERE t.k = key AND ...), TPC-H Q21's): a change of one
 *		of its rows touches the key of its inner side, before and after.
 *		Its other conditions may read any column of the leaf.  Appends them
 *		to leaf->subs.
 */
static char *
leaf_sublinks(DtAnalysis *an, Query *query, DtKeyLeaf *leaf)
{
	ListCell   *lc;

	foreach(lc, querytree_sublinks(query->jointree->quals))
	{
		Query	   *sub = castNode(Query, ((SubLink *) lfirst(lc))->subselect);
		DtFromWalk	walk = {0};
		Node	   *inner;
		DtFromRel  *rel;

		if (sub->setOperations != NULL || sub->cteList != NIL || sub->hasSubLinks ||
			list_length(sub->jointree->fromlist) != 1 ||
			!IsA(linitial(sub->jointree->fromlist), RangeTblRef) ||
			contain_vars_of_level((Node *) sub, 2) ||
			querytree_walk_from(an->inputs, sub, linitial(sub->jointree->fromlist), &walk, NULL) != NULL ||
			list_length(walk.rels) != 1 || ((DtFromRel *) linitial(walk.rels))->input == NULL)
			return pstrdup("subqueries in WHERE that read other than one table");
		if ((inner = key_correlation(query, sub, leaf->expr)) == NULL)
			return pstrdup("subqueries in WHERE not correlated with the partition key by an equality");
		rel = (DtFromRel *) linitial(walk.rels);
		rel->semi = palloc0(sizeof(DtSemiJoin));
		rel->semi->sub = sub;
		rel->semi->sub_rtindex = rel->rtindex;
		rel->semi->inner_keys = list_make1(inner);
		leaf->subs = lappend(leaf->subs, rel);
	}
	return NULL;
}

/*
 * nonnullable_key
 *		Is a key over keyrels one table's, on no nullable side of an outer
 *		join?  Then its rows with key v are those of that table's rows with
 *		key v, FULL JOINs or not elsewhere in the FROM list: the other
 *		relations are only joined to them ((r FULL JOIN s)
 *		RIGHT JOIN t, keyed by t).
 */
static bool
nonnullable_key(Query *query, Relids keyrels, Relids nullable)
{
	return bms_num_members(keyrels) == 1 && !bms_is_member(bms_singleton_member(keyrels), nullable) &&
		rt_fetch(bms_singleton_member(keyrels), query->rtable)->rtekind == RTE_RELATION;
}

/*
 * trace_leaf
 *		The key reached a level that reads tables: it must be an expression
 *		over one of them.
 */
static char *
trace_leaf(DtAnalysis *an, Query *query, Expr *expr, List **leaves)
{
	DtKeyLeaf  *leaf = palloc0(sizeof(DtKeyLeaf));
	DtFromWalk	walk = {.outer_joins = true,.full_joins = true};
	Relids		nullable;
	Relids		keyrels;
	ListCell   *lc;
	char	   *reason;

	if (query->jointree->fromlist == NIL)
		return pstrdup("queries without FROM");
	foreach(lc, query->jointree->fromlist)
	{
		Node	   *item;

		reason = querytree_walk_from(an->inputs, query, (Node *) lfirst(lc), &walk, &item);
		if (reason != NULL)
			return reason;
		leaf->from = lappend(leaf->from, item);
	}
	leaf->rels = walk.rels;
	nullable = walk.nullable;
	leaf->level = query;
	keyrels = pull_varnos(NULL, (Node *) expr);
	if (has_full_join((Node *) query->jointree) && !nonnullable_key(query, keyrels, nullable))
		return trace_full_join(query, expr, leaf, leaves);
	if (bms_is_empty(keyrels))
		return pstrdup("a partition key that is a constant");
	if (bms_num_members(keyrels) > 1)
		return pstrdup("a partition key computed from several tables");
	leaf->key_rtindex = bms_singleton_member(keyrels);
	if (rt_fetch(leaf->key_rtindex, query->rtable)->rtekind != RTE_RELATION)
		return pstrdup("a partition key from a VALUES list or a function in FROM");
	if (bms_is_member(leaf->key_rtindex, nullable))
		return pstrdup("a partition key from the nullable side of an outer join");
	if ((reason = key_reason((Node *) expr)) != NULL)
		return reason;
	leaf->level = query;
	leaf->expr = expr;
	if (query->hasSubLinks && (reason = leaf_sublinks(an, query, leaf)) != NULL)
		return reason;
	leaf->quals = querytree_kept_conditions(query, query->jointree->quals, nullable);
	if (query->hasSubLinks)
	{
		List	   *kept = NIL;
		ListCell   *lc2;

		/* what a subquery finds changes with its rows: a key of theirs */
		foreach(lc2, make_ands_implicit((Expr *) leaf->quals))
		{
			if (!checkExprHasSubLink((Node *) lfirst(lc2)))
				kept = lappend(kept, lfirst(lc2));
		}
		leaf->quals = kept == NIL ? NULL : (Node *) make_ands_explicit(kept);
	}
	*leaves = lappend(*leaves, leaf);
	return NULL;
}

/*
 * trace_constant
 *		The key is a constant at this level (seed 001's 'ALL' rows as a
 *		branch of UNION ALL): the level is one partition, whatever it reads
 *		(LIMIT, subqueries included), touched by any change of its tables.
 */
static char *
trace_constant(Query *query, Expr *expr, List **leaves)
{
	DtKeyLeaf  *leaf = palloc0(sizeof(DtKeyLeaf));
	DtQueryInputs inputs;
	ListCell   *lc;

	querytree_inputs(query, &inputs);
	foreach(lc, inputs.inputs)
		leaf->const_relids = lappend_oid(leaf->const_relids, ((DtInput *) lfirst(lc))->relid);
	leaf->const_nread = inputs.nrelations;
	leaf->level = query;
	leaf->expr = expr;
	*leaves = lappend(*leaves, leaf);
	return NULL;
}

/* is_constant: is the key at this level a constant, one value for every row? */
static bool
is_constant(Expr *expr)
{
	return querytree_is_constant((Node *) expr) && !expression_returns_set((Node *) expr);
}

/* trace_setop: follow column resno into every branch of a set operation. */
static char *
trace_setop(DtAnalysis *an, Query *query, Node *node, AttrNumber resno, List *levels,
			List **leaves, bool *grouped)
{
	if (IsA(node, SetOperationStmt))
	{
		SetOperationStmt *op = (SetOperationStmt *) node;
		char	   *reason = trace_setop(an, query, op->larg, resno, levels, leaves, grouped);

		return reason != NULL ? reason : trace_setop(an, query, op->rarg, resno, levels, leaves, grouped);
	}
	else
	{
		RangeTblEntry *rte = rt_fetch(castNode(RangeTblRef, node)->rtindex, query->rtable);
		TargetEntry *branch = get_tle_by_resno(rte->subquery->targetList, resno);
		TargetEntry *out = get_tle_by_resno(query->targetList, resno);

		if (exprType((Node *) branch->expr) != exprType((Node *) out->expr) ||
			exprCollation((Node *) branch->expr) != exprCollation((Node *) out->expr))
			return pstrdup("set operations whose branches differ in the partition key's type or collation");
		return trace_column(an, rte->subquery, resno, lcons(rte->subquery, list_copy(levels)), leaves,
							grouped);
	}
}

/* find_cte: the WITH query an RTE_CTE reads; levels innermost first. */
static CommonTableExpr *
find_cte(RangeTblEntry *rte, List *levels)
{
	Query	   *owner = (Query *) list_nth(levels, rte->ctelevelsup);
	ListCell   *lc;

	foreach(lc, owner->cteList)
	{
		CommonTableExpr *cte = lfirst_node(CommonTableExpr, lc);

		if (strcmp(cte->ctename, rte->ctename) == 0)
			return cte;
	}
	elog(ERROR, "could not find WITH query \"%s\"", rte->ctename);
	return NULL;
}

/* in_clause: is expr one of the expressions of a list of SortGroupClauses? */
static bool
in_clause(Query *query, List *clauses, Expr *expr)
{
	ListCell   *lc;

	foreach(lc, clauses)
	{
		Node	   *e = get_sortgroupclause_expr(lfirst_node(SortGroupClause, lc), query->targetList);

		if (equal(querytree_flatten_joins(query, e), expr))
			return true;
	}
	return false;
}

/*
 * trace_column
 *		Does output column resno of this query level partition it?  Appends
 *		the leaves it reaches; returns why not, or NULL.  *grouped: it is a
 *		GROUP BY, PARTITION BY or DISTINCT [ON] expression at some level.
 */
static char *
trace_column(DtAnalysis *an, Query *query, AttrNumber resno, List *levels, List **leaves,
			 bool *grouped)
{
	TargetEntry *tle;
	Expr	   *expr;

	if (query->setOperations != NULL)
	{
		if (query->limitCount != NULL || query->limitOffset != NULL)
			return pstrdup("LIMIT and OFFSET");
		return trace_setop(an, query, query->setOperations, resno, levels, leaves, grouped);
	}
	tle = get_tle_by_resno(query->targetList, resno);
	expr = (Expr *) querytree_flatten_joins(query, (Node *) tle->expr);
	if (list_length(levels) > 1 && is_constant(expr))
		return trace_constant(query, expr, leaves);
	if (query->limitCount != NULL || query->limitOffset != NULL)
		return pstrdup("LIMIT and OFFSET");
	if (query->hasSubLinks && sublinks_outside_where(query))
		return pstrdup("subqueries in expressions");
	if (expression_returns_set((Node *) expr))
		return pstrdup("a set-returning function as the partition key");
	if (query->hasAggs || query->groupClause != NIL || query->groupingSets != NIL)
	{
		ListCell   *lc;

		if (!in_clause(query, query->groupClause, expr))
			return pstrdup("aggregates without a GROUP BY column in the select list");
		foreach(lc, expand_grouping_sets(query->groupingSets, query->groupDistinct, -1))
		{
			if (!list_member_int((List *) lfirst(lc), tle->ressortgroupref))
				return pstrdup("GROUPING SETS, ROLLUP or CUBE without a column in every grouping set");
		}
		*grouped = true;
	}
	if (query->hasWindowFuncs)
	{
		ListCell   *lc;

		foreach(lc, query->windowClause)
		{
			if (!in_clause(query, lfirst_node(WindowClause, lc)->partitionClause, expr))
				return pstrdup("window functions without a PARTITION BY column in the select list");
		}
		*grouped = true;
	}
	if (query->hasDistinctOn && !in_clause(query, query->distinctClause, expr))
		return pstrdup("DISTINCT ON without one of its expressions in the select list");
	if (query->distinctClause != NIL && in_clause(query, query->distinctClause, expr))
		*grouped = true;

	/* a column of the level's one subquery or WITH query: follow it there */
	if (IsA(expr, Var) && ((Var *) expr)->varlevelsup == 0)
	{
		Var		   *var = (Var *) expr;
		RangeTblEntry *rte = rt_fetch(var->varno, query->rtable);
		Query	   *sub;

		if ((rte->rtekind == RTE_SUBQUERY || rte->rtekind == RTE_CTE) && var->varattno <= 0)
			return pstrdup("whole-row references");
		if ((rte->rtekind == RTE_SUBQUERY || rte->rtekind == RTE_CTE) && query->hasSubLinks)
			return pstrdup("subqueries in expressions");
		if (rte->rtekind == RTE_SUBQUERY || rte->rtekind == RTE_CTE)
		{
			Node	   *from = list_length(query->jointree->fromlist) == 1 ?
			linitial(query->jointree->fromlist) : NULL;

			if (from == NULL || !IsA(from, RangeTblRef) ||
				((RangeTblRef *) from)->rtindex != var->varno)
				return pstrdup("subqueries or WITH queries joined with other FROM items");
			if (rte->rtekind == RTE_SUBQUERY)
				sub = rte->subquery;
			else
			{
				CommonTableExpr *cte = find_cte(rte, levels);

				if (cte->cterecursive)
					return pstrdup("recursive WITH queries");
				if (cte->cterefcount != 1)
					return pstrdup("WITH queries read more than once");
				sub = castNode(Query, cte->ctequery);
			}
			return trace_column(an, sub, var->varattno, lcons(sub, list_copy(levels)), leaves, grouped);
		}
	}
	return trace_leaf(an, query, expr, leaves);
}

/*
 * index_finds
 *		Has relation relid an index whose first column is expr (over
 *		varno), so that the rows of one key are found without a scan?
 */
static bool
index_finds(Oid relid, Node *expr, Index varno)
{
	Relation	rel = table_open(relid, AccessShareLock);
	List	   *indexes = RelationGetIndexList(rel);
	bool		found = false;
	ListCell   *lc;

	expr = copyObject(expr);
	ChangeVarNodes(expr, varno, 1, 0);
	foreach(lc, indexes)
	{
		Relation	index = index_open(lfirst_oid(lc), AccessShareLock);
		Form_pg_index form = index->rd_index;
		AttrNumber	first = form->indkey.values[0];

		if (form->indisvalid && RelationGetIndexPredicate(index) == NIL)
		{
			if (first != 0)
				found = IsA(expr, Var) && ((Var *) expr)->varattno == first;
			else
				found = equal(linitial(RelationGetIndexExpressions(index)), expr);
		}
		index_close(index, AccessShareLock);
		if (found)
			break;
	}
	table_close(rel, AccessShareLock);
	return found;
}

/* leaves_indexed: does an index find the key rows of every leaf? */
static bool
leaves_indexed(List *leaves)
{
	ListCell   *lc;

	foreach(lc, leaves)
	{
		DtKeyLeaf  *leaf = (DtKeyLeaf *) lfirst(lc);
		RangeTblEntry *rte;

		if (leaf->key_rtindex == 0)
			continue;			/* a constant: the level is read whole */
		rte = rt_fetch(leaf->key_rtindex, leaf->level->rtable);
		if (!index_finds(rte->relid, (Node *) leaf->expr, leaf->key_rtindex))
			return false;
		if (leaf->key_rtindex2 != 0 &&
			!index_finds(rt_fetch(leaf->key_rtindex2, leaf->level->rtable)->relid,
						 (Node *) leaf->expr2, leaf->key_rtindex2))
			return false;
	}
	return true;
}

/*
 * key_filter
 *		(key = ANY ($n) OR (key IS NULL AND $n+1)), for the key expr of
 *		type type.
 */
static Node *
key_filter(Expr *expr, Oid type, int paramid)
{
	Oid			collation = exprCollation((Node *) expr);
	Oid			eq = lookup_type_cache(type, TYPECACHE_EQ_OPR)->eq_opr;
	ScalarArrayOpExpr *any = makeNode(ScalarArrayOpExpr);
	Param	   *keys = makeNode(Param);
	Param	   *null_key = makeNode(Param);
	NullTest   *isnull = makeNode(NullTest);

	keys->paramkind = PARAM_EXTERN;
	keys->paramid = paramid;
	keys->paramtype = get_array_type(type);
	keys->paramtypmod = -1;
	keys->paramcollid = collation;
	keys->location = -1;
	*null_key = *keys;
	null_key->paramid = paramid + 1;
	null_key->paramtype = BOOLOID;
	null_key->paramcollid = InvalidOid;

	any->opno = eq;
	any->opfuncid = get_opcode(eq);
	any->useOr = true;
	any->inputcollid = collation;
	any->args = list_make2(copyObject(expr), keys);
	any->location = -1;
	isnull->arg = copyObject(expr);
	isnull->nulltesttype = IS_NULL;
	isnull->location = -1;
	return (Node *) makeBoolExpr(OR_EXPR,
								 list_make2(any, makeBoolExpr(AND_EXPR, list_make2(isnull, null_key), -1)),
								 -1);
}

/*
 * filter_relation
 *		Make relation rtindex of a level read only the rows whose key (expr
 *		over it) passes key_filter: its range table entry becomes the
 *		subquery SELECT <its columns> FROM it WHERE filter, with the same
 *		columns (a dropped one a NULL), so that the level's Vars still
 *		read it.  The filter of a FULL JOIN's sides, which the planner
 *		would not push below the join.
 */
static void
filter_relation(Query *level, Index rtindex, Expr *expr, Oid type, int paramid)
{
	RangeTblEntry *rte = rt_fetch(rtindex, level->rtable);
	RangeTblEntry *inner;
	Query	   *sub;
	RangeTblRef *ref;
	Relation	rel;
	TupleDesc	desc;
	List	   *colnames = NIL;
	Expr	   *key = copyObject(expr);
	int			i;

	ChangeVarNodes((Node *) key, rtindex, 1, 0);
	/* filtered already, by the other key column of a FULL JOIN's pair */
	if (rte->rtekind == RTE_SUBQUERY)
	{
		sub = rte->subquery;
		sub->jointree->quals = make_and_qual(sub->jointree->quals, key_filter(key, type, paramid));
		return;
	}
	inner = copyObject(rte);
	sub = makeNode(Query);
	ref = makeNode(RangeTblRef);
	rel = relation_open(rte->relid, AccessShareLock);
	desc = RelationGetDescr(rel);
	sub->commandType = CMD_SELECT;
	sub->rtable = list_make1(inner);
	ref->rtindex = 1;
	sub->jointree = makeFromExpr(list_make1(ref), key_filter(key, type, paramid));
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		char	   *name = att->attisdropped ? psprintf("dt$dropped%d", i + 1) : pstrdup(NameStr(att->attname));
		Expr	   *col = att->attisdropped ? (Expr *) makeNullConst(INT4OID, -1, InvalidOid)
		: (Expr *) makeVar(1, i + 1, att->atttypid, att->atttypmod, att->attcollation, 0);

		sub->targetList = lappend(sub->targetList, makeTargetEntry(col, i + 1, name, false));
		colnames = lappend(colnames, makeString(name));
	}
	relation_close(rel, AccessShareLock);
	memset(rte, 0, sizeof(RangeTblEntry));
	rte->type = T_RangeTblEntry;
	rte->rtekind = RTE_SUBQUERY;
	rte->subquery = sub;
	rte->alias = makeAlias(inner->eref->aliasname, NIL);
	rte->eref = makeAlias(inner->eref->aliasname, colnames);
	rte->inFromCl = inner->inFromCl;
}

/*
 * add_key_filter
 *		Make a leaf read only the partitions to recompute:
 *		AND (key = ANY ($n) OR (key IS NULL AND $n+1)); for a constant key,
 *		in HAVING where the level aggregates (without GROUP BY, a false
 *		WHERE would still give a row); for the key of a FULL JOIN, on
 *		each side.
 */
static void
add_key_filter(DtKeyLeaf *leaf, Oid type, int paramid)
{
	Query	   *level = leaf->level;
	Node	   *filter;

	if (leaf->key_rtindex2 != 0)
	{
		filter_relation(level, leaf->key_rtindex, leaf->expr, type, paramid);
		filter_relation(level, leaf->key_rtindex2, leaf->expr2, type, paramid);
		return;
	}
	filter = key_filter(leaf->expr, type, paramid);
	if (leaf->key_rtindex == 0 && (level->hasAggs || level->groupClause != NIL || level->groupingSets != NIL))
		level->havingQual = level->havingQual == NULL ? filter : make_and_qual(level->havingQual, filter);
	else
		level->jointree->quals = level->jointree->quals == NULL ? filter
			: make_and_qual(level->jointree->quals, filter);
}

/*
 * dt_index_on
 *		Has the DT an index whose first column is the column named name?
 *		(A DT whose query was replaced may have dropped columns: its
 *		attribute numbers are not the query's column numbers.)
 */
static bool
dt_index_on(Oid dtrelid, const char *name)
{
	AttrNumber	attnum = OidIsValid(dtrelid) ? get_attnum(dtrelid, name) : InvalidAttrNumber;

	return attnum != InvalidAttrNumber &&
		index_finds(dtrelid, (Node *) makeVar(1, attnum, InvalidOid, -1, InvalidOid, 0), 1);
}

/*
 * column_key
 *		Does output column tle partition the query?  Returns why not, or a
 *		DtKeyColumn (its leaves, whether it is grouped and an index finds
 *		its rows) in *key.
 */
static char *
column_key(DtAnalysis *an, Query *query, TargetEntry *tle, DtKeyColumn **key)
{
	Oid			type = exprType((Node *) tle->expr);
	List	   *leaves = NIL;
	bool		grouped = false;
	char	   *why;
	int			nread = 0;
	ListCell   *ll;

	why = trace_column(an, query, tle->resno, list_make1(query), &leaves, &grouped);
	foreach(ll, leaves)
	{
		DtKeyLeaf  *leaf = (DtKeyLeaf *) lfirst(ll);
		ListCell   *lr;

		nread += leaf->const_nread + list_length(leaf->subs);
		foreach(lr, leaf->rels)
			nread += ((DtFromRel *) lfirst(lr))->input != NULL ? 1 : 0;
	}
	if (why == NULL && list_length(leaves) == 1 && ((DtKeyLeaf *) linitial(leaves))->key_rtindex == 0)
		why = pstrdup("a partition key that is a constant");
	if (why == NULL && nread != an->nrelations)
		why = pstrdup("tables read by subqueries in expressions or by WITH queries read more than once");
	if (why == NULL && (!OidIsValid(lookup_type_cache(type, TYPECACHE_BTREE_OPFAMILY)->btree_opf) ||
						!OidIsValid(get_array_type(type))))
		why = psprintf("a partition key of type %s, which has no default btree operator class",
					   format_type_be(type));

	/* IS NULL of a composite value looks at its fields */
	if (why == NULL && type_is_rowtype(type))
		why = pstrdup("a partition key of a composite type");
	if (why != NULL)
		return why;
	*key = palloc0(sizeof(DtKeyColumn));
	(*key)->resno = tle->resno;
	(*key)->name = tle->resname;
	(*key)->type = type;
	(*key)->leaves = leaves;
	(*key)->grouped = grouped;
	(*key)->indexed = leaves_indexed(leaves);
	return NULL;
}

/* side_leaves: is a leaf of key column key one side's key of a FULL JOIN? */
static bool
side_leaves(DtKeyColumn *key)
{
	ListCell   *lc;

	foreach(lc, key->leaves)
	{
		if (((DtKeyLeaf *) lfirst(lc))->side)
			return true;
	}
	return false;
}

/*
 * side_pair
 *		Of the columns that are one side's key of a FULL JOIN (x.k, y.k:
 *		full_join_side), two of the same join's two sides, as the key
 *		columns; NIL if there are none.
 */
static List *
side_pair(List *sides)
{
	ListCell   *l1;
	ListCell   *l2;

	foreach(l1, sides)
	{
		DtKeyLeaf  *x = linitial(((DtKeyColumn *) lfirst(l1))->leaves);

		foreach(l2, sides)
		{
			DtKeyLeaf  *y = linitial(((DtKeyColumn *) lfirst(l2))->leaves);

			if (x->level == y->level && x->key_rtindex == y->key_rtindex2 &&
				x->key_rtindex2 == y->key_rtindex)
				return list_make2(lfirst(l1), lfirst(l2));
		}
	}
	return NIL;
}

/*
 * join_edge
 *		Is cond x.a = y.b, by the type's default equality, x a relation of
 *		left and y of right (either way round)?
 */
static bool
join_edge(Node *cond, Relids left, Relids right)
{
	OpExpr	   *op = IsA(cond, OpExpr) ? (OpExpr *) cond : NULL;
	Var		   *x;
	Var		   *y;

	if (op == NULL || list_length(op->args) != 2 || !IsA(linitial(op->args), Var) ||
		!IsA(lsecond(op->args), Var))
		return false;
	x = linitial_node(Var, op->args);
	y = lsecond_node(Var, op->args);
	if (bms_is_member(x->varno, right))
	{
		Var		   *t = x;

		x = y;
		y = t;
	}
	return x->varlevelsup == 0 && y->varlevelsup == 0 && x->varattno > 0 && y->varattno > 0 &&
		x->vartype == y->vartype && x->varcollid == y->varcollid &&
		op->opno == lookup_type_cache(x->vartype, TYPECACHE_EQ_OPR)->eq_opr &&
		bms_is_member(x->varno, left) && bms_is_member(y->varno, right);
}

/*
 * join_edges
 *		An equality of each join of a FROM item (join_edge: the first of
 *		its condition's conjuncts that is one), into *edges: they link its
 *		relations as a tree.  Or why not.
 */
static char *
join_edges(Query *query, Node *item, List **edges)
{
	JoinExpr   *join;
	char	   *reason;
	ListCell   *lc;

	if (!IsA(item, JoinExpr))
		return NULL;
	join = (JoinExpr *) item;
	if ((reason = join_edges(query, join->larg, edges)) != NULL ||
		(reason = join_edges(query, join->rarg, edges)) != NULL)
		return reason;
	foreach(lc, make_ands_implicit((Expr *) querytree_flatten_joins(query, join->quals)))
	{
		if (join_edge(lfirst(lc), get_relids_in_jointree(join->larg, false),
					  get_relids_in_jointree(join->rarg, false)))
		{
			*edges = lappend(*edges, lfirst(lc));
			return NULL;
		}
	}
	return pstrdup("FULL JOIN with a join without an equality of a column of each side");
}

/*
 * join_column_key
 *		The key column of output column var (a join's column, the only
 *		expression of an output column), its one leaf the relation of var
 *		in the level's FROM list (rels, from); or why it is none.
 */
static char *
join_column_key(Query *query, Var *var, List *rels, List *from, DtKeyColumn **key)
{
	DtKeyLeaf  *leaf = palloc0(sizeof(DtKeyLeaf));
	ListCell   *lc;

	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (tle->resjunk || !equal(querytree_flatten_joins(query, (Node *) tle->expr), var))
			continue;
		if (!OidIsValid(lookup_type_cache(var->vartype, TYPECACHE_BTREE_OPFAMILY)->btree_opf) ||
			!OidIsValid(get_array_type(var->vartype)) || type_is_rowtype(var->vartype))
			return psprintf("a FULL JOIN's join column of type %s, which has no default btree operator class", format_type_be(var->vartype));
		leaf->level = query;
		leaf->expr = (Expr *) copyObject(var);
		leaf->key_rtindex = var->varno;
		leaf->rels = rels;
		leaf->from = from;
		*key = palloc0(sizeof(DtKeyColumn));
		(*key)->resno = tle->resno;
		(*key)->name = tle->resname;
		(*key)->type = var->vartype;
		(*key)->leaves = list_make1(leaf);
		(*key)->indexed = index_finds(rt_fetch(var->varno, query->rtable)->relid, (Node *) var, var->varno);
		return NULL;
	}
	return pstrdup("FULL JOIN without each join's two columns in the select list");
}

/*
 * any_join_keys
 *		A query whose FROM list is tables joined with FULL (and other) joins,
 *		each on one equality x.a = y.b, every join column in the select
 *		list, that no column partitions (pg_ivm's r FULL JOIN s ON r.i =
 *		s.i FULL JOIN t ON s.j = t.j): the rows a change touches are those
 *		with one of the values of some join column that the changed rows,
 *		or the rows joined to them through the joins' equalities, have in
 *		that column (a row's match made or lost is found by its own
 *		column's value, which the equality gives the other side), and,
 *		when a changed row has every join column NULL, the rows whose
 *		every join column is NULL (such a row matches nothing: it is alone,
 *		null-extended).  Fills rc (rc->any) and returns true; or returns
 *		false with why not in *why (NULL for a query not of that shape at
 *		all).
 */
static bool
any_join_keys(DtAnalysis *an, Query *query, DtRecompute *rc, char **why)
{
	DtFromWalk	walk = {.outer_joins = true,.full_joins = true};
	Node	   *item = list_length(query->jointree->fromlist) == 1 ? linitial(query->jointree->fromlist) : NULL;
	Node	   *from;
	List	   *edges = NIL;
	ListCell   *lc;

	*why = NULL;
	if (item == NULL || !has_full_join(item) || query->setOperations != NULL ||
		query->hasAggs || query->groupClause != NIL || query->groupingSets != NIL ||
		query->hasWindowFuncs || query->hasDistinctOn || query->hasSubLinks || query->hasTargetSRFs ||
		query->limitCount != NULL || query->limitOffset != NULL)
		return false;
	if ((*why = querytree_walk_from(an->inputs, query, item, &walk, &from)) != NULL ||
		(*why = join_edges(query, item, &edges)) != NULL)
		return false;
	foreach(lc, walk.rels)
	{
		if (((DtFromRel *) lfirst(lc))->input == NULL)
			*why = pstrdup("FULL JOIN with a VALUES list or a function");
	}
	if (list_length(walk.rels) != an->nrelations)
		*why = pstrdup("tables read by subqueries in expressions or by WITH queries read more than once");
	if (*why != NULL)
		return false;
	rc->keys = NIL;
	rc->indexed = false;
	foreach(lc, edges)
	{
		ListCell   *lv;

		foreach(lv, ((OpExpr *) lfirst(lc))->args)
		{
			DtKeyColumn *key = NULL;
			ListCell   *lk;
			bool		known = false;

			foreach(lk, rc->keys)
				known |= equal(((DtKeyLeaf *) linitial(((DtKeyColumn *) lfirst(lk))->leaves))->expr, lfirst(lv));
			if (known)
				continue;
			if ((*why = join_column_key(query, lfirst_node(Var, lv), walk.rels, list_make1(from), &key)) != NULL)
				return false;
			rc->keys = lappend(rc->keys, key);
			rc->indexed |= key->indexed;
		}
	}
	rc->any = true;
	rc->edges = edges;
	return true;
}

/*
 * recompute_analyze
 *		Find the partition key of an->query: every output column that
 *		partitions it and is grouped (GROUP BY a, b: the groups, not the
 *		a's, are what a change touches), if there are several; else one
 *		column, preferring one the DT is indexed on (the one chosen when it
 *		was created), then one whose base rows an index finds, then the
 *		first.  Fills an->recompute, or returns why the query's functions
 *		rule recompute out or why no column partitions it.
 */
char *
recompute_analyze(DtAnalysis *an, Oid dtrelid)
{
	Query	   *query;
	char	   *reason;
	const char *reason_column = NULL;
	bool		one_reason = true;
	int			best_score = -1;
	DtKeyColumn *best = NULL;
	List	   *grouped = NIL;
	List	   *sides = NIL;
	char	   *any_why = NULL;
	DtRecompute *rc = palloc0(sizeof(DtRecompute));
	ListCell   *lc;

	if ((reason = functions_reason(an->query)) != NULL)
		return reason;
	query = copyObject(an->query);
	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		DtKeyColumn *key = NULL;
		char	   *why;
		int			score;

		if (tle->resjunk)
			continue;
		if ((why = column_key(an, query, tle, &key)) != NULL)
		{
			if (reason == NULL)
			{
				reason = why;
				reason_column = tle->resname;
			}
			else if (strcmp(reason, why) != 0)
				one_reason = false;
			continue;
		}
		if (side_leaves(key))
		{
			if (list_length(key->leaves) == 1)
				sides = lappend(sides, key);
			continue;
		}
		if (key->grouped)
			grouped = lappend(grouped, key);
		score = (dt_index_on(dtrelid, tle->resname) ? 2 : 0) + (key->indexed ? 1 : 0);
		if (score > best_score)
		{
			best_score = score;
			best = key;
		}
	}
	if (best == NULL && (rc->keys = side_pair(sides)) != NIL)
		best = linitial(rc->keys);
	else if (best == NULL && any_join_keys(an, query, rc, &any_why))
	{
		rc->query = query;
		an->recompute = rc;
		return NULL;
	}
	else if (best != NULL)
		rc->keys = list_length(grouped) > 1 ? grouped : list_make1(best);
	if (best == NULL)
	{
		if (reason == NULL && sides != NIL)
			return pstrdup("FULL JOIN with one side's key x.k but not the other's y.k");
		if (any_why != NULL && sides == NIL && an->nrelations > 2)
			return any_why;
		if (reason == NULL)
			return pstrdup("queries without output columns");
		if (one_reason)
			return reason;
		return psprintf("queries that no output column partitions (column \"%s\": %s)",
						reason_column, reason);
	}
	rc->indexed = false;
	foreach(lc, rc->keys)
	{
		DtKeyColumn *key = (DtKeyColumn *) lfirst(lc);
		ListCell   *ll;

		rc->indexed |= key->indexed;
		foreach(ll, key->leaves)
			add_key_filter((DtKeyLeaf *) lfirst(ll), key->type, 2 * foreach_current_index(lc) + 1);
	}
	rc->query = query;
	an->recompute = rc;
	return NULL;
}

/*
 * recompute_key_columns
 *		The DT's partition key columns, quoted, separated by ", " (for SQL
 *		and for messages).
 */
char *
recompute_key_columns(DtAnalysis *an)
{
	StringInfoData s;
	ListCell   *lc;

	initStringInfo(&s);
	foreach(lc, an->recompute->keys)
		appendStringInfo(&s, "%s%s", s.len > 0 ? ", " : "",
						 quote_identifier(((DtKeyColumn *) lfirst(lc))->name));
	return s.data;
}

/*
 * recompute_top_k
 *		Is the query ORDER BY ... LIMIT/OFFSET over one relation, rows
 *		filtered and projected, nothing else (DT_STRATEGY_TOP_K)?  Then a
 *		refresh chooses the rows within the LIMIT again, the whole query
 *		recomputed as one partition, whenever the relation changed: a top-N
 *		of the relation, k rows through an index on its ORDER BY.  The clock
 *		may be only in the select list, as for the other strategies.
 */
bool
recompute_top_k(Query *query)
{
	Node	   *from = list_length(query->jointree->fromlist) == 1 ?
	linitial(query->jointree->fromlist) : NULL;
	ListCell   *lc;

	if (query->commandType != CMD_SELECT || query->setOperations != NULL || query->cteList != NIL ||
		query->hasAggs || query->groupClause != NIL || query->groupingSets != NIL ||
		query->havingQual != NULL || query->hasWindowFuncs || query->distinctClause != NIL ||
		query->hasTargetSRFs || query->hasSubLinks || query->rowMarks != NIL ||
		(query->limitCount == NULL && query->limitOffset == NULL) ||
		from == NULL || !IsA(from, RangeTblRef) ||
		rt_fetch(((RangeTblRef *) from)->rtindex, query->rtable)->rtekind != RTE_RELATION)
		return false;
	if (querytree_facts(query->jointree->quals).time ||
		querytree_facts(query->limitCount).time || querytree_facts(query->limitOffset).time)
		return false;
	foreach(lc, query->sortClause)
	{
		if (querytree_facts(get_sortgroupclause_expr(lfirst_node(SortGroupClause, lc),
													 query->targetList)).time)
			return false;
	}
	return true;
}
