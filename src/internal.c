/*-------------------------------------------------------------------------
 *
 * internal.c
 *		Subqueries that become internal dynamic tables of the query that
 *		reads them.
 *
 * No strategy maintains, as a node of the query it is in, a subquery that
 * aggregates and is read as a relation: an aggregate over an aggregate
 * (TPC-H Q13), a grouping subquery joined with tables, a WITH query that
 * groups (read once or more, Q15), an uncorrelated scalar subquery in
 * WHERE that aggregates without GROUP BY (the maximum of Q15), or one
 * correlated by equalities, over several tables (Q2's minimum: grouped by
 * the correlation, for the keys the query's conditions let through, and
 * joined); nor the rows a grouping query reads where
 * its WHERE has subqueries (Q21's: recomputed by the key of their
 * correlation), nor a query ending in ORDER BY ... LIMIT that is not a
 * top-k over one relation (Q2: the query without its LIMIT).  Each such
 * subquery can be a dynamic table of its own, dt_internal.sub_<dt>_<n>
 * (made by lifecycle.c), maintained by its own strategy; the query, read
 * as reading those tables, is a DT reading DTs, which refresh before it,
 * in its unit, as of one snapshot.  A scalar subquery that aggregates
 * without GROUP BY always gives one row: reading its table as one more
 * item of the FROM list, its column in place of the subquery, gives the
 * same rows (in WHERE, or in the select list of a level that does not
 * aggregate).
 *
 * A query delta merge maintains as written may read internal DTs too: a
 * threshold, an uncorrelated scalar min, max, sum or avg in WHERE of a
 * grouping query or of its subqueries in FROM (TPC-H Q22's average
 * balance), which the merge's semi-join evaluates before and after every
 * change over every row of its table, is a one-row DT kept by delta
 * merge, and the scalar subquery stays, reading max() over that table:
 * its value, or NULL over no row as the aggregate over no rows.
 *
 * Two nodes become such subqueries first.  A grouped level whose HAVING
 * or select list holds such a scalar (Q11's threshold) is split: its
 * grouping, every group kept, is the table, and the level a query over
 * it whose WHERE is HAVING, the scalar left there for the next pass.  An
 * IN over a subquery of a FROM list and conditions, a conjunct of WHERE
 * by equalities (Q20's), is a join with that subquery's rows grouped by
 * its columns, which match a row at most once.
 *
 * internal_find finds the next such subquery, in an order that makes each
 * a standalone query once those before it are read from their tables
 * (WITH queries, then subqueries in FROM, then thresholds of a grouping
 * query, then scalar subqueries in WHERE and the select list, then a
 * grouping split, then IN, then scalar
 * subqueries in WHERE correlated by equalities, then the rows of a
 * grouping, then the query without its LIMIT; each pass over the query
 * as rewritten so far); internal_replace makes the query read the
 * table made for it, and internal_read rewrites a query to read the
 * tables a DT has.  The stored query of a DT stays the one its owner
 * wrote: analysis_analyze reads it through its internal tables.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/sysattr.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "parser/parse_func.h"
#include "parser/parse_oper.h"
#include "parser/parse_relation.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "analysis.h"

/* Where internal_find found a subquery. */
typedef enum SubKind
{
	SUB_NONE,
	SUB_CTE,					/* cteList item cte */
	SUB_FROM,					/* range table entry rtindex */
	SUB_SCALAR,					/* a SubLink of WHERE (or of the select list) */
	SUB_THRESHOLD,				/* a SubLink of WHERE of a grouping query or
								 * of its subqueries in FROM: kept, reading
								 * the table */
	SUB_GROUPED,				/* the grouping under a scalar SubLink of
								 * HAVING or the select list */
	SUB_IN,						/* an IN SubLink, a conjunct of WHERE */
	SUB_CORRELATED,				/* a SubLink of a WHERE conjunct, correlated
								 * by equalities: read grouped by them */
	SUB_ROWS,					/* the rows a grouping query aggregates */
	SUB_LIMIT					/* the query itself, without its LIMIT */
} SubKind;

typedef struct SubFound
{
	SubKind		kind;
	CommonTableExpr *cte;
	Index		rtindex;
	SubLink    *sublink;
	Query	   *sub;			/* its query, as written (SUB_CORRELATED: as
								 * grouped; SUB_LIMIT: without its LIMIT) */
	List	   *colnames;		/* the names of its output columns */
	Query	   *outer;			/* SUB_GROUPED: the query over its table */
	List	   *outer_keys;		/* SUB_CORRELATED: the query's side of the
								 * equalities, k1..kn of the table */
	int			noutputs;		/* SUB_LIMIT: the query's output columns, the
								 * first of the table's */
	List	   *columns;		/* SUB_ROWS: the columns of the query's tables
								 * it aggregates and groups, c1..cn */
} SubFound;

/* Walk state of outer_walker and cte_walker: the depth below the start. */
typedef struct LevelWalk
{
	int			depth;
	const char *ctename;		/* cte_walker: the WITH query replaced */
	Oid			subrelid;		/* cte_walker: by this table */
} LevelWalk;

/* outer_walker: does node refer to a level above the start of the walk? */
static bool
outer_walker(Node *node, LevelWalk *w)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
		return (int) ((Var *) node)->varlevelsup > w->depth;
	if (IsA(node, Aggref))
	{
		if ((int) ((Aggref *) node)->agglevelsup > w->depth)
			return true;
	}
	if (IsA(node, GroupingFunc))
	{
		if ((int) ((GroupingFunc *) node)->agglevelsup > w->depth)
			return true;
	}
	/* (a SubLink's own Params, in its test, refer to its subquery's columns) */
	if (IsA(node, Param))
		return ((Param *) node)->paramkind != PARAM_SUBLINK;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;
		ListCell   *lc;
		bool		result = false;

		/* (depth is signed: -1 before the start, whose own WITH is level 0) */
		w->depth++;
		foreach(lc, q->rtable)
		{
			RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);

			result |= rte->rtekind == RTE_CTE && (int) rte->ctelevelsup > w->depth;
		}
		result = result || query_tree_walker(q, outer_walker, w, 0);
		w->depth--;
		return result;
	}
	return expression_tree_walker(node, outer_walker, w);
}

/* standalone: a subquery that refers to no level above it. */
static bool
standalone(Query *sub)
{
	LevelWalk	w = {-1, NULL, InvalidOid};

	return !outer_walker((Node *) sub, &w);
}

/* aggregates: does a query group or aggregate at its top level? */
static bool
aggregates(Query *q)
{
	return q->commandType == CMD_SELECT && q->setOperations == NULL &&
		(q->hasAggs || q->groupClause != NIL || q->groupingSets != NIL);
}

/*
 * columns_named
 *		Can the output columns of sub be a table's columns named colnames:
 *		as many names, distinct, the columns in front of any resjunk one?
 */
static bool
columns_named(Query *sub, List *colnames)
{
	ListCell   *lc;
	int			n = 0;

	foreach(lc, sub->targetList)
	{
		TargetEntry *tle = (TargetEntry *) lfirst(lc);

		if (tle->resjunk)
			continue;
		if (tle->resno != ++n)
			return false;
	}
	if (n == 0 || n != list_length(colnames))
		return false;
	foreach(lc, colnames)
	{
		ListCell   *lc2;

		for_each_cell(lc2, colnames, lnext(colnames, lc))
		{
			if (strcmp(strVal(lfirst(lc)), strVal(lfirst(lc2))) == 0)
				return false;
		}
	}
	return true;
}

/*
 * scalar_aggregate
 *		Is link an uncorrelated scalar subquery that aggregates without
 *		GROUP BY, so gives one row, always?  Not of a floating-point sum or
 *		average: its table would hold another value than the query computes
 *		(querytree_order_dependent_aggregate).
 */
static bool
scalar_aggregate(SubLink * link)
{
	Query	   *sub = (Query *) link->subselect;

	return link->subLinkType == EXPR_SUBLINK && aggregates(sub) && sub->hasAggs &&
		sub->groupClause == NIL && sub->groupingSets == NIL && sub->havingQual == NULL &&
		sub->limitCount == NULL && sub->limitOffset == NULL && !sub->hasTargetSRFs &&
		!sub->hasWindowFuncs && standalone(sub) &&
		!querytree_order_dependent_aggregate((Node *) sub->targetList);
}

/*
 * found_scalar
 *		link, a scalar aggregate SubLink, is the subquery of kind found, if
 *		its output column can be named (columns_named); else f is left as
 *		none found.
 */
static bool
found_scalar(SubFound *f, SubLink * link, SubKind kind)
{
	Query	   *sub = (Query *) link->subselect;
	TargetEntry *tle = linitial_node(TargetEntry, sub->targetList);

	f->kind = kind;
	f->sublink = link;
	f->sub = sub;
	f->colnames = list_make1(makeString(tle->resname != NULL ? tle->resname : "value"));
	if (columns_named(f->sub, f->colnames))
		return true;
	f->kind = SUB_NONE;
	return false;
}

/* scalar_walker: the first uncorrelated scalar aggregate SubLink. */
static bool
scalar_walker(Node *node, SubFound *f)
{
	if (node == NULL)
		return false;
	if (IsA(node, SubLink))
	{
		SubLink    *link = (SubLink *) node;

		if (scalar_aggregate(link) && found_scalar(f, link, SUB_SCALAR))
			return true;
		return expression_tree_walker(link->testexpr, scalar_walker, f);
	}
	if (IsA(node, Query))
		return false;
	return expression_tree_walker(node, scalar_walker, f);
}

/*
 * null_when_empty
 *		Is expr an aggregate that is NULL over no rows (min, max, sum,
 *		avg)?  Then a scalar subquery of it correlated by equalities is
 *		the same aggregate grouped by them, NULL for a key without a group.
 */
static bool
null_when_empty(Expr *expr)
{
	Aggref	   *agg = (Aggref *) expr;
	char	   *name;

	if (!IsA(expr, Aggref) || agg->agglevelsup != 0 || (name = querytree_catalog_name(agg->aggfnoid)) == NULL)
		return false;
	return strcmp(name, "min") == 0 || strcmp(name, "max") == 0 || strcmp(name, "sum") == 0 ||
		strcmp(name, "avg") == 0;
}

/*
 * reads_internal
 *		Does sub read a relation of dt_internal (an internal DT: the
 *		subquery a threshold was replaced by)?  No user query can.
 */
static bool
reads_internal(Query *sub)
{
	ListCell   *lc;

	foreach(lc, sub->rtable)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);

		if (rte->rtekind == RTE_RELATION && get_rel_namespace(rte->relid) == names_internal_namespace())
			return true;
	}
	return false;
}

/*
 * max_of
 *		pg_catalog.max over values of type, or InvalidOid if there is none
 *		for that type itself.
 */
static Oid
max_of(Oid type)
{
	return LookupFuncName(list_make2(makeString("pg_catalog"), makeString("max")), 1, &type, true);
}

/*
 * threshold_walker
 *		The first scalar_aggregate SubLink whose one output is an aggregate
 *		NULL over no rows (null_when_empty) of a type max takes, over no
 *		internal DT: a threshold such as TPC-H Q22's avg(c_acctbal).
 */
static bool
threshold_walker(Node *node, SubFound *f)
{
	if (node == NULL)
		return false;
	if (IsA(node, SubLink))
	{
		SubLink    *link = (SubLink *) node;
		Query	   *sub = (Query *) link->subselect;

		if (scalar_aggregate(link) && !reads_internal(sub) &&
			null_when_empty(linitial_node(TargetEntry, sub->targetList)->expr) &&
			OidIsValid(max_of(exprType((Node *) link))) && found_scalar(f, link, SUB_THRESHOLD))
			return true;
		return expression_tree_walker(link->testexpr, threshold_walker, f);
	}
	if (IsA(node, Query))
		return false;
	return expression_tree_walker(node, threshold_walker, f);
}

/*
 * threshold_find
 *		A threshold (threshold_walker) in WHERE of query or of a subquery
 *		in its FROM list, at any depth (Q22's, in its subquery custsale).
 *		Delta merge evaluates such a scalar before and after a change for
 *		its semi-join (merge.c): over its table, every row of it twice;
 *		over an internal DT of it, kept by delta merge, one row.
 */
static bool
threshold_find(Query *query, SubFound *f)
{
	ListCell   *lc;

	if (threshold_walker(query->jointree->quals, f))
		return true;
	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);

		if (rte->rtekind == RTE_SUBQUERY && threshold_find(rte->subquery, f))
			return true;
	}
	return false;
}

/*
 * compares_inexact
 *		Does query pick its rows by (its joins, WHERE or HAVING read) an
 *		output of its FROM item rtindex that is a floating-point sum or
 *		average of sub, that item's query
 *		(querytree_order_dependent_aggregate)?
 *		An internal table of sub would hold its exact value, not the one the
 *		query computes in its scan's order: the rows picked would differ.
 */
static bool
compares_inexact(Query *query, Index rtindex, Query *sub)
{
	Bitmapset  *read = NULL;
	ListCell   *lc;

	querytree_varattnos((Node *) query->jointree, rtindex, &read);
	querytree_varattnos(query->havingQual, rtindex, &read);
	/* a whole-row reference reads every column */
	if (bms_is_member(0 - FirstLowInvalidHeapAttributeNumber, read))
		return querytree_order_dependent_aggregate((Node *) sub->targetList);
	foreach(lc, sub->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (!tle->resjunk && bms_is_member(tle->resno - FirstLowInvalidHeapAttributeNumber, read) &&
			querytree_order_dependent_aggregate((Node *) tle->expr))
			return true;
	}
	return false;
}

/*
 * compares_inexact_cte
 *		compares_inexact for every FROM item of query that reads WITH query
 *		cte.
 */
static bool
compares_inexact_cte(Query *query, CommonTableExpr * cte)
{
	ListCell   *lc;

	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);

		if (rte->rtekind == RTE_CTE && rte->ctelevelsup == 0 && strcmp(rte->ctename, cte->ctename) == 0 &&
			compares_inexact(query, foreach_current_index(lc) + 1, (Query *) cte->ctequery))
			return true;
	}
	return false;
}

/*
 * A grouped level split under its scalar subqueries (split_grouping): the
 * target list of the grouping below, and what split_walker saw.
 */
typedef struct Split
{
	List	   *inner;			/* the grouping's target entries */
	List	   *colnames;		/* their names */
	bool		scalar;			/* a scalar aggregate SubLink seen */
	bool		refused;		/* a SubLink that cannot leave the grouping */
} Split;

/*
 * split_walker
 *		In the select list and HAVING of a grouped level: a scalar aggregate
 *		SubLink (s->scalar), or one that must stay in the level (correlated
 *		with it, or in an aggregate's argument: s->refused).
 */
static bool
split_walker(Node *node, Split *s)
{
	if (node == NULL)
		return false;
	if (IsA(node, Aggref) || IsA(node, GroupingFunc))
	{
		s->refused |= checkExprHasSubLink(node);
		return false;
	}
	if (IsA(node, SubLink))
	{
		SubLink    *link = (SubLink *) node;

		s->scalar |= scalar_aggregate(link);
		s->refused |= !standalone((Query *) link->subselect);
		return expression_tree_walker(link->testexpr, split_walker, s);
	}
	return expression_tree_walker(node, split_walker, s);
}

/*
 * split_column
 *		The Var, over the grouping below (range table entry 1), of its
 *		column computing expr: a new one named after name unless one
 *		computes it already.
 */
static Var *
split_column(Split *s, Expr *expr, const char *name)
{
	ListCell   *lc;
	TargetEntry *tle = NULL;
	char	   *unique;
	int			n = 1;

	foreach(lc, s->inner)
	{
		if (equal(((TargetEntry *) lfirst(lc))->expr, expr))
			tle = (TargetEntry *) lfirst(lc);
	}
	if (tle == NULL)
	{
		if (name == NULL || strcmp(name, "?column?") == 0)
			name = "c";
		unique = pstrdup(name);
		for (;;)
		{
			bool		used = false;

			foreach(lc, s->colnames)
				used |= strcmp(strVal(lfirst(lc)), unique) == 0;
			if (!used)
				break;
			unique = psprintf("%s_%d", name, ++n);
		}
		tle = makeTargetEntry(copyObject(expr), list_length(s->inner) + 1, unique, false);
		s->inner = lappend(s->inner, tle);
		s->colnames = lappend(s->colnames, makeString(unique));
	}
	return makeVar(1, tle->resno, exprType((Node *) expr), exprTypmod((Node *) expr),
				   exprCollation((Node *) expr), 0);
}

/*
 * split_mutator
 *		An expression of the grouped level as one over the grouping below:
 *		each largest part without a SubLink (but a constant) its column.
 */
static Node *
split_mutator(Node *node, Split *s)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Const) || IsA(node, Param))
		return copyObject(node);
	if (IsA(node, SubLink))
	{
		SubLink    *link = copyObject((SubLink *) node);

		link->testexpr = split_mutator(link->testexpr, s);
		return (Node *) link;
	}
	if (!checkExprHasSubLink(node))
		return (Node *) split_column(s, (Expr *) node, NULL);
	return expression_tree_mutator(node, split_mutator, s);
}

/*
 * split_grouping
 *		A grouped level whose select list or HAVING compares with (or
 *		computes from) an uncorrelated scalar aggregate: in f, the grouping
 *		without HAVING, every group key and every part of the select list
 *		and HAVING without a subquery a column of it (SUB_GROUPED), and the
 *		query over it: those expressions, HAVING its WHERE (f->outer, its
 *		one FROM item the grouping's table, made by internal_replace).  The
 *		grouping keeps every group, so that when the scalar moves, the
 *		groups that cross it are read from the grouping's table.
 */
static bool
split_grouping(Query *query, SubFound *f)
{
	Split		s = {0};
	Query	   *inner;
	Query	   *outer;
	RangeTblEntry *rte = makeNode(RangeTblEntry);
	RangeTblRef *ref = makeNode(RangeTblRef);
	List	   *tlist = NIL;
	ListCell   *lc;

	if (!aggregates(query) || query->groupingSets != NIL || query->distinctClause != NIL ||
		query->limitCount != NULL || query->limitOffset != NULL || query->hasWindowFuncs ||
		query->hasTargetSRFs || query->rowMarks != NIL)
		return false;
	foreach(lc, query->targetList)
	{
		TargetEntry *tle = (TargetEntry *) lfirst(lc);

		if (!tle->resjunk)
			(void) split_walker((Node *) tle->expr, &s);
	}
	(void) split_walker(query->havingQual, &s);
	/* a table of the grouping would keep its float sums exactly (merge.c) */
	if (!s.scalar || s.refused || querytree_order_dependent_aggregate(query->havingQual))
		return false;

	/* the output columns without a subquery keep their names, then the keys */
	foreach(lc, query->targetList)
	{
		TargetEntry *tle = (TargetEntry *) lfirst(lc);

		if (!tle->resjunk && !checkExprHasSubLink((Node *) tle->expr))
			(void) split_column(&s, tle->expr, tle->resname);
	}
	foreach(lc, query->groupClause)
	{
		TargetEntry *key = get_sortgroupclause_tle((SortGroupClause *) lfirst(lc), query->targetList);
		Var		   *var = split_column(&s, key->expr, key->resname);

		((TargetEntry *) list_nth(s.inner, var->varattno - 1))->ressortgroupref = key->ressortgroupref;
	}
	foreach(lc, query->targetList)
	{
		TargetEntry *tle = (TargetEntry *) lfirst(lc);

		if (!tle->resjunk)
			tlist = lappend(tlist, makeTargetEntry((Expr *) split_mutator((Node *) tle->expr, &s),
												   tle->resno, tle->resname, false));
	}

	outer = makeNode(Query);
	outer->commandType = CMD_SELECT;
	outer->querySource = QSRC_ORIGINAL;
	outer->canSetTag = true;
	outer->targetList = tlist;
	rte->eref = makeAlias("grouped", NIL);
	rte->inFromCl = true;
	outer->rtable = list_make1(rte);
	ref->rtindex = 1;
	outer->jointree = makeFromExpr(list_make1(ref), split_mutator(query->havingQual, &s));
	outer->hasSubLinks = true;

	inner = copyObject(query);
	inner->targetList = s.inner;
	inner->havingQual = NULL;
	inner->sortClause = NIL;
	inner->hasSubLinks = checkExprHasSubLink((Node *) inner);
	rte->eref->colnames = list_copy(s.colnames);

	f->kind = SUB_GROUPED;
	f->sub = inner;
	f->colnames = s.colnames;
	f->outer = outer;
	return true;
}

/*
 * in_equalities
 *		Is testexpr, of an IN over sub, one equality per output column of
 *		sub, of an expression without a subquery with the column, by an
 *		operator of a family of the column type's own equality, under the
 *		column's collation?  Then sub's rows grouped by their columns match
 *		a row at most once each: the IN is a join with them.
 */
static bool
in_equalities(Node *testexpr, Query *sub)
{
	List	   *ops = is_andclause(testexpr) ? ((BoolExpr *) testexpr)->args : list_make1(testexpr);
	Bitmapset  *cols = NULL;
	ListCell   *lc;
	int			ncols = 0;

	foreach(lc, ops)
	{
		OpExpr	   *op = (OpExpr *) lfirst(lc);
		Param	   *param;
		Oid			eqop = InvalidOid;

		if (!IsA(op, OpExpr) || list_length(op->args) != 2 || !IsA(lsecond(op->args), Param))
			return false;
		param = lsecond_node(Param, op->args);
		if (param->paramkind != PARAM_SUBLINK || bms_is_member(param->paramid, cols) ||
			checkExprHasSubLink(linitial(op->args)) || op->inputcollid != param->paramcollid ||
			!op_mergejoinable(op->opno, exprType(linitial(op->args))))
			return false;
		get_sort_group_operators(param->paramtype, false, false, false, NULL, &eqop, NULL, NULL);
		if (!OidIsValid(eqop) || !equality_ops_are_compatible(op->opno, eqop))
			return false;
		cols = bms_add_member(cols, param->paramid);
	}
	foreach(lc, sub->targetList)
		ncols += !((TargetEntry *) lfirst(lc))->resjunk;
	return bms_num_members(cols) == ncols;
}

/*
 * in_walker
 *		The first conjunct of WHERE that is IN over an uncorrelated subquery
 *		of a FROM list and conditions, by equalities (in_equalities): in f,
 *		that subquery grouped by its columns (SUB_IN).
 */
static bool
in_walker(Node *node, SubFound *f)
{
	SubLink    *link = (SubLink *) node;
	Query	   *sub;
	ListCell   *lc;

	if (is_andclause(node))
	{
		foreach(lc, ((BoolExpr *) node)->args)
		{
			if (in_walker(lfirst(lc), f))
				return true;
		}
		return false;
	}
	if (node == NULL || !IsA(node, SubLink) || link->subLinkType != ANY_SUBLINK)
		return false;
	sub = (Query *) link->subselect;
	if (sub->commandType != CMD_SELECT || sub->setOperations != NULL || aggregates(sub) ||
		sub->distinctClause != NIL || sub->sortClause != NIL || sub->limitCount != NULL ||
		sub->limitOffset != NULL || sub->hasWindowFuncs || sub->hasTargetSRFs ||
		sub->rowMarks != NIL || !standalone(sub) || !in_equalities(link->testexpr, sub))
		return false;
	f->colnames = NIL;
	foreach(lc, sub->targetList)
	{
		TargetEntry *tle = (TargetEntry *) lfirst(lc);

		if (!tle->resjunk)
			f->colnames = lappend(f->colnames,
								  makeString(tle->resname != NULL ? tle->resname : "?column?"));
	}
	if (!columns_named(sub, f->colnames))
		return false;
	sub = copyObject(sub);
	foreach(lc, sub->targetList)
	{
		TargetEntry *tle = (TargetEntry *) lfirst(lc);
		SortGroupClause *group = makeNode(SortGroupClause);
		Oid			type = exprType((Node *) tle->expr);

		if (tle->resjunk)
			continue;
		tle->ressortgroupref = group->tleSortGroupRef = tle->resno;
		get_sort_group_operators(type, false, false, false, &group->sortop, &group->eqop, NULL,
								 &group->hashable);
		sub->groupClause = lappend(sub->groupClause, group);
	}
	f->kind = SUB_IN;
	f->sublink = link;
	f->sub = sub;
	return true;
}

/*
 * of_level
 *		Does expr read columns of query level "level" (0: its own, 1: the
 *		one above), and only of that level, with no subquery or aggregate?
 */
static bool
of_level(Node *expr, int level)
{
	return contain_vars_of_level(expr, level) && !contain_vars_of_level(expr, 1 - level) &&
		!checkExprHasSubLink(expr) && !contain_agg_clause(expr);
}

/*
 * correlated_group
 *		The scalar subquery sub (one aggregate, null_when_empty, not of a
 *		floating-point sum or average: querytree_order_dependent_aggregate) of a WHERE
 *		conjunct, as the same aggregate grouped by the inner sides of its
 *		correlation equalities (inner = outer, the type's default equality),
 *		which a table can hold: k1..kn, the inner sides, then v, the
 *		aggregate; *outer_keys the outer sides.  NULL unless its other
 *		conditions and outputs refer to nothing outside it.
 */
static Query *
correlated_group(Query *sub, List **outer_keys)
{
	Query	   *g;
	List	   *local = NIL;
	List	   *tlist = NIL;
	ListCell   *lc;
	TargetEntry *value = linitial_node(TargetEntry, sub->targetList);

	*outer_keys = NIL;
	if (sub->commandType != CMD_SELECT || sub->setOperations != NULL || sub->cteList != NIL ||
		!sub->hasAggs || sub->groupClause != NIL || sub->groupingSets != NIL ||
		sub->havingQual != NULL || sub->limitCount != NULL || sub->limitOffset != NULL ||
		sub->hasTargetSRFs || sub->hasWindowFuncs || sub->hasSubLinks || sub->distinctClause != NIL ||
		sub->rowMarks != NIL || value->resjunk || !null_when_empty(value->expr) ||
		querytree_order_dependent_aggregate((Node *) value->expr))
		return NULL;
	g = copyObject(sub);
	foreach(lc, make_ands_implicit((Expr *) g->jointree->quals))
	{
		OpExpr	   *op = (OpExpr *) lfirst(lc);
		Node	   *inner;
		Node	   *outer;
		TypeCacheEntry *tc;
		SortGroupClause *sgc;

		if (!contain_vars_of_level((Node *) op, 1))
		{
			local = lappend(local, op);
			continue;
		}
		if (!IsA(op, OpExpr) || list_length(op->args) != 2)
			return NULL;
		inner = linitial(op->args);
		outer = lsecond(op->args);
		if (!of_level(inner, 0))
		{
			inner = lsecond(op->args);
			outer = linitial(op->args);
		}
		tc = lookup_type_cache(exprType(inner), TYPECACHE_EQ_OPR | TYPECACHE_LT_OPR);
		if (!of_level(inner, 0) || !of_level(outer, 1) || exprType(outer) != tc->type_id ||
			tc->eq_opr != op->opno || !OidIsValid(tc->lt_opr) ||
			exprCollation(inner) != exprCollation(outer))
			return NULL;
		outer = copyObject(outer);
		IncrementVarSublevelsUp(outer, -1, 0);
		*outer_keys = lappend(*outer_keys, outer);
		sgc = makeNode(SortGroupClause);
		sgc->tleSortGroupRef = list_length(*outer_keys);
		sgc->eqop = tc->eq_opr;
		sgc->sortop = tc->lt_opr;
		sgc->hashable = op_hashjoinable(tc->eq_opr, tc->type_id);
		g->groupClause = lappend(g->groupClause, sgc);
		tlist = lappend(tlist, makeTargetEntry((Expr *) inner, list_length(tlist) + 1,
											   psprintf("k%d", list_length(tlist) + 1), false));
		llast_node(TargetEntry, tlist)->ressortgroupref = sgc->tleSortGroupRef;
	}
	if (*outer_keys == NIL)
		return NULL;
	tlist = lappend(tlist, makeTargetEntry(copyObject(value->expr), list_length(tlist) + 1,
										   pstrdup("v"), false));
	g->targetList = tlist;
	g->sortClause = NIL;
	g->jointree->quals = local == NIL ? NULL : (Node *) make_ands_explicit(local);
	return standalone(g) ? g : NULL;
}

/*
 * nullable_relids
 *		The relations of FROM item node on the nullable side of an outer
 *		join (all of them if nullable: the item is on such a side).
 */
static Bitmapset *
nullable_relids(Node *node, bool nullable)
{
	if (IsA(node, RangeTblRef))
		return nullable ? bms_make_singleton(((RangeTblRef *) node)->rtindex) : NULL;
	if (IsA(node, FromExpr))
	{
		Bitmapset  *relids = NULL;
		ListCell   *lc;

		foreach(lc, ((FromExpr *) node)->fromlist)
			relids = bms_join(relids, nullable_relids(lfirst(lc), nullable));
		return relids;
	}
	if (IsA(node, JoinExpr))
	{
		JoinExpr   *join = (JoinExpr *) node;

		return bms_join(nullable_relids(join->larg, nullable || join->jointype == JOIN_RIGHT ||
										join->jointype == JOIN_FULL),
						nullable_relids(join->rarg, nullable || join->jointype == JOIN_LEFT ||
										join->jointype == JOIN_FULL));
	}
	return NULL;
}

/*
 * reached_keys
 *		Restrict g, the grouping of correlated_group, to the keys a row of
 *		query can reach: for each relation R of query's FROM list whose
 *		columns are outer keys, where WHERE has conjuncts over R alone
 *		without subqueries or mutable functions (TPC-H Q2's p_size = 15
 *		AND p_type LIKE '%BRASS' on part), g's WHERE
 *		gets EXISTS (SELECT FROM R WHERE R's keys = their inner sides AND
 *		those conjuncts).  A row of query joins the group of its keys only
 *		when R's row, which has those keys (they are not NULL: the join is
 *		on equalities), passes them, so the other groups were never read;
 *		a change of R's rows outside them, or of a group's rows for a key no
 *		row of R passes, is no change of the table.  Q2's minimum is then
 *		kept for the parts of one size and type, not for every part.
 *		Not for an R on the nullable side of an outer join: the query
 *		evaluates those conjuncts only on the rows of R the join keeps (a
 *		guard such as p.size IS NULL OR 12 / p.size > 1 may fail on the
 *		others), the EXISTS on every row of R with a group's key.
 */
static void
reached_keys(Query *query, Query *g, List *outer_keys)
{
	List	   *quals = make_ands_implicit((Expr *) query->jointree->quals);
	Bitmapset  *done = nullable_relids((Node *) query->jointree, false);
	ListCell   *lc;

	foreach(lc, outer_keys)
	{
		Var		   *key = (Var *) lfirst(lc);
		Index		rtindex;
		Query	   *e;
		List	   *conds = NIL;
		ListCell   *kc;
		ListCell   *lc2;
		RangeTblRef *ref;
		SubLink    *exists;

		if (!IsA(key, Var) || key->varlevelsup != 0 || bms_is_member(key->varno, done) ||
			rt_fetch(key->varno, query->rtable)->rtekind != RTE_RELATION)
			continue;
		rtindex = key->varno;
		done = bms_add_member(done, rtindex);
		foreach(kc, quals)
		{
			Node	   *qual = (Node *) lfirst(kc);

			if (!checkExprHasSubLink(qual) && !contain_vars_of_level(qual, 1) &&
				!contain_mutable_functions(qual) &&
				bms_equal(pull_varnos(NULL, qual), bms_make_singleton(rtindex)))
			{
				qual = copyObject(qual);
				ChangeVarNodes(qual, rtindex, 1, 0);
				conds = lappend(conds, qual);
			}
		}
		if (conds == NIL)
			continue;
		/* R's keys equal to their inner sides, g's columns k1..kn */
		forboth(kc, outer_keys, lc2, g->targetList)
		{
			Var		   *outer = (Var *) lfirst(kc);
			Node	   *inner;
			Expr	   *eq;

			if (!IsA(outer, Var) || outer->varlevelsup != 0 || outer->varno != rtindex)
				continue;
			if (outer->varattno <= 0 || type_is_rowtype(outer->vartype))
				break;
			outer = copyObject(outer);
			ChangeVarNodes((Node *) outer, rtindex, 1, 0);
			inner = copyObject((Node *) lfirst_node(TargetEntry, lc2)->expr);
			IncrementVarSublevelsUp(inner, 1, 0);
			eq = make_opclause(lookup_type_cache(exprType((Node *) outer), TYPECACHE_EQ_OPR)->eq_opr,
							   BOOLOID, false, (Expr *) outer, (Expr *) inner, InvalidOid,
							   exprCollation((Node *) outer));
			set_opfuncid((OpExpr *) eq);
			conds = lcons(eq, conds);
		}
		/* stopped at a whole row or a composite: no key of a semi-join */
		if (kc != NULL)
			continue;
		ref = makeNode(RangeTblRef);
		ref->rtindex = 1;
		e = makeNode(Query);
		e->commandType = CMD_SELECT;
		e->querySource = QSRC_ORIGINAL;
		e->canSetTag = true;
		e->rtable = list_make1(copyObject(rt_fetch(rtindex, query->rtable)));
		e->jointree = makeFromExpr(list_make1(ref), (Node *) make_ands_explicit(conds));
		exists = makeNode(SubLink);
		exists->subLinkType = EXISTS_SUBLINK;
		exists->subselect = (Node *) e;
		exists->location = -1;
		g->jointree->quals = (Node *) make_ands_explicit(lappend(make_ands_implicit((Expr *) g->jointree->quals),
																 exists));
		g->hasSubLinks = true;
	}
}

/*
 * correlated_find
 *		The first conjunct of query's WHERE that compares, with a strict
 *		operator, an expression with a scalar aggregate subquery correlated
 *		by equalities (TPC-H Q2's ps_supplycost = (SELECT min(ps_supplycost)
 *		... WHERE p_partkey = ps_partkey ...)), in f: its subquery grouped
 *		(correlated_group).  Joining that table on the equalities, its value
 *		in the subquery's place, gives the same rows: a key without a group
 *		was a NULL, which the strict comparison did not keep either.
 */
static bool
correlated_find(Query *query, SubFound *f)
{
	ListCell   *lc;

	foreach(lc, make_ands_implicit((Expr *) query->jointree->quals))
	{
		OpExpr	   *op = (OpExpr *) lfirst(lc);
		int			i;

		if (!IsA(op, OpExpr) || list_length(op->args) != 2 || !op_strict(op->opno))
			continue;
		for (i = 0; i < 2; i++)
		{
			SubLink    *link = (SubLink *) list_nth(op->args, i);

			if (!IsA(link, SubLink) || link->subLinkType != EXPR_SUBLINK ||
				checkExprHasSubLink((Node *) list_nth(op->args, 1 - i)))
				continue;
			f->sub = correlated_group((Query *) link->subselect, &f->outer_keys);
			if (f->sub == NULL)
				continue;
			reached_keys(query, f->sub, f->outer_keys);
			f->kind = SUB_CORRELATED;
			f->sublink = link;
			f->colnames = NIL;
			for (i = 1; i <= list_length(f->sub->targetList); i++)
				f->colnames = lappend(f->colnames, makeString(get_tle_by_resno(f->sub->targetList, i)->resname));
			return true;
		}
	}
	return false;
}

/*
 * rows_find
 *		A query that groups or aggregates the rows of a WHERE with
 *		subqueries (TPC-H Q21's EXISTS and NOT EXISTS), in f: those rows,
 *		with the columns of the query's tables that the select list and
 *		HAVING read and the columns of the query its subqueries read (the
 *		keys of their correlation, by which recompute.c recomputes them),
 *		as a query without aggregates whose output is c1..cn.  The query
 *		then aggregates that table's rows (rows_replace): the same groups
 *		of the same rows.
 */
static bool
rows_find(Query *query, SubFound *f)
{
	List	   *links;
	List	   *vars;
	ListCell   *lc;
	Query	   *sub;

	if (query->setOperations != NULL || query->cteList != NIL || query->hasWindowFuncs ||
		query->hasTargetSRFs || query->rowMarks != NIL ||
		(!query->hasAggs && query->groupClause == NIL) ||
		!checkExprHasSubLink(query->jointree->quals) ||
		checkExprHasSubLink((Node *) query->targetList) || checkExprHasSubLink(query->havingQual))
		return false;
	vars = pull_var_clause(querytree_flatten_joins(query, (Node *) list_make2(query->targetList,
																			  query->havingQual)),
						   PVC_RECURSE_AGGREGATES | PVC_RECURSE_PLACEHOLDERS);
	links = querytree_sublinks(query->jointree->quals);
	foreach(lc, links)
	{
		ListCell   *lv;

		foreach(lv, pull_vars_of_level((Node *) ((SubLink *) lfirst(lc))->subselect, 1))
		{
			Var		   *var = copyObject((Var *) lfirst(lv));

			if (!IsA(var, Var))
				return false;
			var->varlevelsup = 0;
			vars = lappend(vars, querytree_flatten_joins(query, (Node *) var));
		}
	}
	f->columns = NIL;
	f->colnames = NIL;
	foreach(lc, vars)
	{
		if (IsA(lfirst(lc), Var) && ((Var *) lfirst(lc))->varattno <= 0)
			return false;
		if (list_member(f->columns, lfirst(lc)))
			continue;
		f->columns = lappend(f->columns, lfirst(lc));
		f->colnames = lappend(f->colnames, makeString(psprintf("c%d", list_length(f->columns))));
	}
	if (f->columns == NIL)
		return false;
	sub = copyObject(query);
	sub->targetList = NIL;
	foreach(lc, f->columns)
		sub->targetList = lappend(sub->targetList,
								  makeTargetEntry(copyObject(lfirst(lc)), foreach_current_index(lc) + 1,
												  pstrdup(strVal(list_nth(f->colnames, foreach_current_index(lc)))),
												  false));
	sub->groupClause = sub->groupingSets = sub->sortClause = sub->distinctClause = NIL;
	sub->groupDistinct = sub->hasAggs = sub->hasDistinctOn = false;
	sub->havingQual = sub->limitCount = sub->limitOffset = NULL;
	sub->limitOption = LIMIT_OPTION_COUNT;
	f->kind = SUB_ROWS;
	f->sub = sub;
	return true;
}

/*
 * limit_find
 *		A query ending in LIMIT/OFFSET that is not already a top-k over one
 *		relation (recompute_top_k), in f: the query without its LIMIT, its
 *		ORDER BY expressions that are not output columns made output
 *		columns dt_order_<n> after the others, so that a top-k over its
 *		table (limit_replace) orders by them.  The LIMIT's own expressions
 *		must be constants, and the ORDER BY may not read the clock (the
 *		table keeps the value of the refresh that wrote a row).
 */
static bool
limit_find(Query *query, SubFound *f)
{
	Query	   *sub;
	List	   *tlist = NIL;
	List	   *junk = NIL;
	ListCell   *lc;
	int			n = 0;

	if ((query->limitCount == NULL && query->limitOffset == NULL) || recompute_top_k(query) ||
		contain_vars_of_level(query->limitCount, 0) || contain_vars_of_level(query->limitOffset, 0) ||
		checkExprHasSubLink(query->limitCount) || checkExprHasSubLink(query->limitOffset) ||
		query->rowMarks != NIL || query->utilityStmt != NULL)
		return false;
	/* the table keeps the clock of the refresh that wrote a row */
	foreach(lc, query->sortClause)
	{
		if (querytree_facts(get_sortgroupclause_expr(lfirst_node(SortGroupClause, lc),
													 query->targetList)).time)
			return false;
	}
	sub = copyObject(query);
	sub->limitCount = sub->limitOffset = NULL;
	sub->limitOption = LIMIT_OPTION_COUNT;
	f->colnames = NIL;
	foreach(lc, sub->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (!tle->resjunk)
		{
			tlist = lappend(tlist, tle);
			f->colnames = lappend(f->colnames, makeString(pstrdup(tle->resname != NULL ? tle->resname : "?column?")));
		}
		else if (tle->ressortgroupref != 0 &&
				 get_sortgroupref_clause_noerr(tle->ressortgroupref, sub->sortClause) != NULL)
		{
			tle->resjunk = false;
			tle->resname = psprintf("dt_order_%d", ++n);
			junk = lappend(junk, tle);
		}
	}
	f->noutputs = list_length(tlist);
	foreach(lc, junk)
		f->colnames = lappend(f->colnames, makeString(lfirst_node(TargetEntry, lc)->resname));
	tlist = list_concat(tlist, junk);
	foreach(lc, sub->targetList)
	{
		if (lfirst_node(TargetEntry, lc)->resjunk)
			tlist = lappend(tlist, lfirst(lc));
	}
	foreach(lc, tlist)
		lfirst_node(TargetEntry, lc)->resno = foreach_current_index(lc) + 1;
	sub->targetList = tlist;
	f->kind = SUB_LIMIT;
	f->sub = sub;
	return columns_named(sub, f->colnames);
}

/* find: the next subquery of query to read from a table, in f. */
static bool
find(Query *query, SubFound *f)
{
	ListCell   *lc;

	memset(f, 0, sizeof(SubFound));
	if (query->commandType != CMD_SELECT || query->setOperations != NULL)
		return false;
	foreach(lc, query->cteList)
	{
		CommonTableExpr *cte = (CommonTableExpr *) lfirst(lc);

		if (!cte->cterecursive && cte->cterefcount > 0 && IsA(cte->ctequery, Query) &&
			aggregates((Query *) cte->ctequery) && standalone((Query *) cte->ctequery) &&
			columns_named((Query *) cte->ctequery, cte->ctecolnames) && !compares_inexact_cte(query, cte))
		{
			f->kind = SUB_CTE;
			f->cte = cte;
			f->sub = (Query *) cte->ctequery;
			f->colnames = cte->ctecolnames;
			return true;
		}
	}
	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);

		if (rte->rtekind == RTE_SUBQUERY && !rte->lateral && aggregates(rte->subquery) &&
			standalone(rte->subquery) && columns_named(rte->subquery, rte->eref->colnames) &&
			!compares_inexact(query, foreach_current_index(lc) + 1, rte->subquery))
		{
			f->kind = SUB_FROM;
			f->rtindex = foreach_current_index(lc) + 1;
			f->sub = rte->subquery;
			f->colnames = rte->eref->colnames;
			return true;
		}
	}
	if ((aggregates(query) && threshold_find(query, f)) || scalar_walker(query->jointree->quals, f))
		return true;
	if (!aggregates(query) && scalar_walker((Node *) query->targetList, f))
		return true;
	return split_grouping(query, f) || in_walker(query->jointree->quals, f) ||
		correlated_find(query, f) || rows_find(query, f) || limit_find(query, f);
}

/*
 * internal_find
 *		The next subquery of query to make an internal DT of, as a
 *		standalone query whose output columns have the names its reader
 *		knows them by; NULL if there is none.
 */
Query *
internal_find(Query *query)
{
	SubFound	f;
	Query	   *sub;
	ListCell   *lc;

	if (!find(query, &f))
		return NULL;
	sub = copyObject(f.sub);
	foreach(lc, sub->targetList)
	{
		TargetEntry *tle = (TargetEntry *) lfirst(lc);

		if (!tle->resjunk)
			tle->resname = pstrdup(strVal(list_nth(f.colnames, tle->resno - 1)));
	}
	return sub;
}

/*
 * internal_find_threshold
 *		As internal_find, where the next subquery is a threshold of a
 *		grouping query (SUB_THRESHOLD), which keeps its place reading the
 *		table; NULL otherwise.  A query delta merge maintains as written
 *		gets internal DTs for its thresholds only.
 */
Query *
internal_find_threshold(Query *query)
{
	SubFound	f;

	if (!find(query, &f) || f.kind != SUB_THRESHOLD)
		return NULL;
	return internal_find(query);
}

/*
 * read_table
 *		Make rte, of query, read table subrelid (whose columns are those of
 *		what it read), as a plain FROM item that selects every column.
 */
static void
read_table(Query *query, RangeTblEntry *rte, Oid subrelid)
{
	Bitmapset  *cols = NULL;
	int			i;

	for (i = 1; i <= list_length(rte->eref->colnames); i++)
		cols = bms_add_member(cols, i - FirstLowInvalidHeapAttributeNumber);
	rte->rtekind = RTE_RELATION;
	rte->relid = subrelid;
	rte->relkind = RELKIND_RELATION;
	rte->rellockmode = AccessShareLock;
	rte->inh = false;
	rte->lateral = false;
	rte->subquery = NULL;
	rte->security_barrier = false;
	rte->ctename = NULL;
	rte->ctelevelsup = 0;
	rte->self_reference = false;
	rte->coltypes = rte->coltypmods = rte->colcollations = NIL;
#if PG_VERSION_NUM >= 160000
	{
		RTEPermissionInfo *perm = addRTEPermissionInfo(&query->rteperminfos, rte);

		perm->requiredPerms = ACL_SELECT;
		perm->selectedCols = cols;
	}
#else
	rte->requiredPerms = ACL_SELECT;
	rte->checkAsUser = InvalidOid;
	rte->selectedCols = cols;
	rte->insertedCols = rte->updatedCols = rte->extraUpdatedCols = NULL;
#endif
}

/* cte_walker: the references to WITH query w->ctename read w->subrelid. */
static bool
cte_walker(Node *node, LevelWalk *w)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;
		ListCell   *lc;
		bool		result;

		foreach(lc, q->rtable)
		{
			RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);

			if (rte->rtekind == RTE_CTE && rte->ctelevelsup == w->depth &&
				strcmp(rte->ctename, w->ctename) == 0)
				read_table(q, rte, w->subrelid);
		}
		w->depth++;
		result = query_tree_walker(q, cte_walker, w, 0);
		w->depth--;
		return result;
	}
	return expression_tree_walker(node, cte_walker, w);
}

/*
 * Walk state of sublink_mutator: the SubLink found, what replaces it, and
 * (SUB_IN) the table whose Vars replace its Params.
 */
typedef struct Replace
{
	SubLink    *sublink;
	Node	   *by;
	Index		rtindex;
} Replace;

/*
 * sublink_mutator
 *		The SubLink found replaced by r->by; with r->rtindex (and no
 *		SubLink), the Params of a subquery's columns by the Vars of that
 *		table's columns.
 */
static Node *
sublink_mutator(Node *node, Replace *r)
{
	if (node == NULL)
		return NULL;
	if (node == (Node *) r->sublink)
		return copyObject(r->by);
	if (IsA(node, Param) && r->rtindex > 0 && ((Param *) node)->paramkind == PARAM_SUBLINK)
	{
		Param	   *param = (Param *) node;

		return (Node *) makeVar(r->rtindex, param->paramid, param->paramtype, param->paramtypmod,
								param->paramcollid, 0);
	}
	if (IsA(node, Query))
		return node;
	return expression_tree_mutator(node, sublink_mutator, r);
}

/*
 * join_table
 *		Add table subrelid, whose columns are named colnames, to the FROM
 *		list of query; its range table index.
 */
static Index
join_table(Query *query, Oid subrelid, List *colnames)
{
	RangeTblEntry *rte = makeNode(RangeTblEntry);
	RangeTblRef *ref = makeNode(RangeTblRef);

	rte->eref = makeAlias(get_rel_name(subrelid), list_copy(colnames));
	rte->inFromCl = true;
	read_table(query, rte, subrelid);
	query->rtable = lappend(query->rtable, rte);
	ref->rtindex = list_length(query->rtable);
	query->jointree->fromlist = lappend(query->jointree->fromlist, ref);
	return ref->rtindex;
}

/*
 * read_only_table
 *		Make query read table subrelid, whose columns are colnames, and no
 *		other relation: its only FROM item, range table entry 1.
 */
static void
read_only_table(Query *query, Oid subrelid, List *colnames)
{
	query->rtable = NIL;
#if PG_VERSION_NUM >= 160000
	query->rteperminfos = NIL;
#endif
	query->jointree = makeFromExpr(NIL, NULL);
	(void) join_table(query, subrelid, colnames);
}

/* table_var: column attno of relation rtindex, of the type of expr. */
static Var *
table_var(Index rtindex, AttrNumber attno, Node *expr)
{
	return makeVar(rtindex, attno, exprType(expr), exprTypmod(expr), exprCollation(expr), 0);
}

/*
 * max_query
 *		SELECT max(v) FROM table subrelid, whose one column v (named
 *		colnames) holds the value of scalar subquery link, or no row: the
 *		value, or NULL, as the aggregate over no rows (null_when_empty).
 */
static Query *
max_query(Oid subrelid, List *colnames, SubLink * link)
{
	Query	   *q = makeNode(Query);
	Aggref	   *agg = makeNode(Aggref);
	Oid			type = exprType((Node *) link);
	Oid			collation = exprCollation((Node *) link);

	q->commandType = CMD_SELECT;
	q->querySource = QSRC_ORIGINAL;
	q->canSetTag = true;
	read_only_table(q, subrelid, colnames);
	agg->aggfnoid = max_of(type);
	agg->aggtype = type;
	agg->aggcollid = collation;
	agg->inputcollid = collation;
	agg->aggtranstype = InvalidOid;
	agg->aggargtypes = list_make1_oid(type);
	agg->args = list_make1(makeTargetEntry((Expr *) table_var(1, 1, (Node *) link), 1, NULL, false));
	agg->aggkind = AGGKIND_NORMAL;
	agg->aggsplit = AGGSPLIT_SIMPLE;
	agg->aggno = agg->aggtransno = -1;
	agg->location = -1;
	q->targetList = list_make1(makeTargetEntry((Expr *) agg, 1, pstrdup(strVal(linitial(colnames))), false));
	q->hasAggs = true;
	return q;
}

/*
 * correlated_replace
 *		Make query join table subrelid (f: SUB_CORRELATED), on the
 *		equalities of the correlation, its value v in the subquery's place.
 *
 *		An outer side that reads a relation on the nullable side of an
 *		outer join is compared as COALESCE(outer), the same value, which
 *		the planner does not take for strict: a strict equality would let
 *		it make that join an inner one (it would see that no null-extended
 *		row passes) and so evaluate WHERE's conditions on that relation's
 *		every row before the join, where the query, whose subquery it could
 *		not see through, evaluates them only on the rows the join keeps (a
 *		guard such as p.size IS NULL OR 12 / p.size > 1 divides by zero on
 *		the others).
 */
static void
correlated_replace(Query *query, SubFound *f, Oid subrelid)
{
	Bitmapset  *nullable = nullable_relids((Node *) query->jointree, false);
	Index		rtindex = join_table(query, subrelid, f->colnames);
	Replace		r = {f->sublink, (Node *) table_var(rtindex, list_length(f->colnames), (Node *) f->sublink), 0};
	List	   *quals;
	ListCell   *lc;

	quals = make_ands_implicit((Expr *) sublink_mutator(query->jointree->quals, &r));
	foreach(lc, f->outer_keys)
	{
		Node	   *outer = (Node *) lfirst(lc);
		TypeCacheEntry *tc = lookup_type_cache(exprType(outer), TYPECACHE_EQ_OPR);
		Expr	   *eq = make_opclause(tc->eq_opr, BOOLOID, false, (Expr *) outer,
									   (Expr *) table_var(rtindex, foreach_current_index(lc) + 1, outer),
									   InvalidOid, exprCollation(outer));

		if (bms_overlap(pull_varnos(NULL, querytree_flatten_joins(query, outer)), nullable))
		{
			CoalesceExpr *same = makeNode(CoalesceExpr);

			same->coalescetype = exprType(outer);
			same->coalescecollid = exprCollation(outer);
			same->args = list_make1(outer);
			same->location = -1;
			linitial(((OpExpr *) eq)->args) = same;
		}
		set_opfuncid((OpExpr *) eq);
		quals = lappend(quals, eq);
	}
	query->jointree->quals = (Node *) make_ands_explicit(quals);
	query->hasSubLinks = checkExprHasSubLink((Node *) query);
}

/* columns_mutator: the columns of rows_find read from the table's. */
static Node *
columns_mutator(Node *node, List *columns)
{
	ListCell   *lc;

	if (node == NULL)
		return NULL;
	foreach(lc, columns)
	{
		if (IsA(node, Var) && equal(node, lfirst(lc)))
			return (Node *) table_var(1, foreach_current_index(lc) + 1, node);
	}
	return expression_tree_mutator(node, columns_mutator, columns);
}

/*
 * rows_replace
 *		Make query (f: SUB_ROWS) aggregate the rows of table subrelid: its
 *		select list and HAVING over the table's columns, and nothing else
 *		in its FROM and WHERE.
 */
static void
rows_replace(Query *query, SubFound *f, Oid subrelid)
{
	query->targetList = (List *) columns_mutator(querytree_flatten_joins(query, (Node *) query->targetList),
												 f->columns);
	query->havingQual = columns_mutator(querytree_flatten_joins(query, query->havingQual), f->columns);
	read_only_table(query, subrelid, f->colnames);
	query->hasSubLinks = false;
	query->constraintDeps = NIL;
}

/*
 * limit_replace
 *		Make query (f: SUB_LIMIT) a top-k over table subrelid: its output
 *		columns, ORDER BY, LIMIT and OFFSET over the table's columns, and
 *		nothing else.
 */
static void
limit_replace(Query *query, SubFound *f, Oid subrelid)
{
	List	   *tlist = NIL;
	ListCell   *lc;

	read_only_table(query, subrelid, f->colnames);
	foreach(lc, f->sub->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		bool		order = get_sortgroupref_clause_noerr(tle->ressortgroupref, query->sortClause) != NULL;
		TargetEntry *out;

		if (tle->resno > list_length(f->colnames))
			break;
		out = makeTargetEntry((Expr *) table_var(1, tle->resno, (Node *) tle->expr), tle->resno,
							  tle->resno <= f->noutputs ? pstrdup(tle->resname) : NULL,
							  tle->resno > f->noutputs);
		out->ressortgroupref = order ? tle->ressortgroupref : 0;
		tlist = lappend(tlist, out);
	}
	query->targetList = tlist;
	query->cteList = NIL;
	query->setOperations = NULL;
	query->groupClause = query->groupingSets = query->windowClause = query->distinctClause = NIL;
	query->groupDistinct = false;
	query->havingQual = NULL;
	query->hasAggs = query->hasWindowFuncs = query->hasTargetSRFs = query->hasSubLinks = false;
	query->hasDistinctOn = query->hasRecursive = false;
	query->constraintDeps = NIL;
}

/*
 * internal_replace
 *		Make query read table subrelid, an internal DT made of the subquery
 *		internal_find finds in it, in that subquery's place.
 */
void
internal_replace(Query *query, Oid subrelid)
{
	SubFound	f;
	Replace		r = {0};

	if (!find(query, &f))
		elog(ERROR, "no subquery to read from an internal dynamic table");
	switch (f.kind)
	{
		case SUB_CORRELATED:
			correlated_replace(query, &f, subrelid);
			return;
		case SUB_LIMIT:
			limit_replace(query, &f, subrelid);
			return;
		case SUB_ROWS:
			rows_replace(query, &f, subrelid);
			return;
		case SUB_CTE:
			{
				LevelWalk	w = {0, f.cte->ctename, subrelid};

				(void) cte_walker((Node *) query, &w);
				query->cteList = list_delete_ptr(query->cteList, f.cte);
				return;
			}
		case SUB_FROM:
			read_table(query, rt_fetch(f.rtindex, query->rtable), subrelid);
			return;
		case SUB_GROUPED:
			{
				RangeTblEntry *rte = linitial_node(RangeTblEntry, f.outer->rtable);

				rte->eref->aliasname = get_rel_name(subrelid);
				read_table(f.outer, rte, subrelid);
				*query = *f.outer;
				return;
			}
		case SUB_THRESHOLD:
			f.sublink->subselect = (Node *) max_query(subrelid, f.colnames, f.sublink);
			return;
		case SUB_NONE:
		case SUB_SCALAR:
		case SUB_IN:
			break;
	}

	/* a scalar subquery's one row, or IN's matching row, joins the FROM list */
	r.sublink = f.sublink;
	if (f.kind == SUB_SCALAR)
	{
		Index		rtindex = join_table(query, subrelid, f.colnames);

		r.by = (Node *) table_var(rtindex, 1, (Node *) f.sublink);
	}
	else
	{
		Replace		params = {NULL, NULL, join_table(query, subrelid, f.colnames)};

		r.by = sublink_mutator(f.sublink->testexpr, &params);
	}
	query->jointree->quals = sublink_mutator(query->jointree->quals, &r);
	query->targetList = (List *) sublink_mutator((Node *) query->targetList, &r);
	query->hasSubLinks = checkExprHasSubLink((Node *) query);
}

/*
 * internal_read
 *		A copy of query reading the internal DTs of DT dtrelid
 *		(sub_<dtrelid>_<n>) in place of its subqueries, in the order
 *		internal_find finds them; NULL if it has none.
 */
Query *
internal_read(Query *query, Oid dtrelid)
{
	Query	   *read = NULL;
	Oid			subrelid;
	int			n;

	for (n = 1; OidIsValid(subrelid = names_internal_relid(DT_OBJECT_SUB, dtrelid, n)); n++)
	{
		if (read == NULL)
			read = copyObject(query);
		internal_replace(read, subrelid);
	}
	return read;
}
