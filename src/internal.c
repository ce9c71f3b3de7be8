/*-------------------------------------------------------------------------
 *
 * internal.c
 *		Subqueries that become internal dynamic tables of the query that
 *		reads them.
 *
 * No strategy maintains, as a node of the query it is in, a subquery that
 * aggregates and is read as a relation: an aggregate over an aggregate
 * (TPC-H Q13), a grouping subquery joined with tables, a WITH query that
 * groups (read once or more, Q15), or an uncorrelated scalar subquery in
 * WHERE that aggregates without GROUP BY (the maximum of Q15).  Each such
 * subquery can be a dynamic table of its own, dt_internal.sub_<dt>_<n>
 * (made by lifecycle.c), maintained by its own strategy; the query, read
 * as reading those tables, is a DT reading DTs, which refresh before it,
 * in its unit, as of one snapshot.  A scalar subquery that aggregates
 * without GROUP BY always gives one row: reading its table as one more
 * item of the FROM list, its column in place of the subquery, gives the
 * same rows (in WHERE, or in the select list of a level that does not
 * aggregate).
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
 * (WITH queries, then subqueries in FROM, then scalar subqueries in WHERE
 * and the select list, then a grouping split, then IN; each pass over the
 * query as rewritten so far); internal_replace makes the query read the
 * table made for it, and internal_read rewrites a query to read the
 * tables a DT has.  The stored query of a DT stays the one its owner
 * wrote: analysis_analyze reads it through its internal tables.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_oper.h"
#include "parser/parse_relation.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/lsyscache.h"

#include "analysis.h"

/* Where internal_find found a subquery. */
typedef enum SubKind
{
	SUB_NONE,
	SUB_CTE,					/* cteList item cte */
	SUB_FROM,					/* range table entry rtindex */
	SUB_SCALAR,					/* a SubLink of WHERE (or of the select list) */
	SUB_GROUPED,				/* the grouping under a scalar SubLink of
								 * HAVING or the select list */
	SUB_IN						/* an IN SubLink, a conjunct of WHERE */
} SubKind;

typedef struct SubFound
{
	SubKind		kind;
	CommonTableExpr *cte;
	Index		rtindex;
	SubLink    *sublink;
	Query	   *sub;			/* its query, as written */
	List	   *colnames;		/* the names of its output columns */
	Query	   *outer;			/* SUB_GROUPED: the query over its table */
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
		return ((Var *) node)->varlevelsup > w->depth;
	if (IsA(node, Aggref))
	{
		if (((Aggref *) node)->agglevelsup > w->depth)
			return true;
	}
	if (IsA(node, GroupingFunc))
	{
		if (((GroupingFunc *) node)->agglevelsup > w->depth)
			return true;
	}
	/* (a SubLink's own Params, in its test, refer to its subquery's columns) */
	if (IsA(node, Param))
		return ((Param *) node)->paramkind != PARAM_SUBLINK;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;
		ListCell   *lc;
		bool		result;

		foreach(lc, q->rtable)
		{
			RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);

			if (rte->rtekind == RTE_CTE && rte->ctelevelsup > w->depth)
				return true;
		}
		w->depth++;
		result = query_tree_walker(q, outer_walker, w, 0);
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
 *		GROUP BY, so gives one row, always?
 */
static bool
scalar_aggregate(SubLink * link)
{
	Query	   *sub = (Query *) link->subselect;

	return link->subLinkType == EXPR_SUBLINK && aggregates(sub) && sub->hasAggs &&
		sub->groupClause == NIL && sub->groupingSets == NIL && sub->havingQual == NULL &&
		sub->limitCount == NULL && sub->limitOffset == NULL && !sub->hasTargetSRFs &&
		!sub->hasWindowFuncs && standalone(sub);
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

		if (scalar_aggregate(link))
		{
			TargetEntry *tle = linitial_node(TargetEntry, ((Query *) link->subselect)->targetList);

			f->kind = SUB_SCALAR;
			f->sublink = link;
			f->sub = (Query *) link->subselect;
			f->colnames = list_make1(makeString(tle->resname != NULL ? tle->resname : "value"));
			if (columns_named(f->sub, f->colnames))
				return true;
			f->kind = SUB_NONE;
		}
		return expression_tree_walker(link->testexpr, scalar_walker, f);
	}
	if (IsA(node, Query))
		return false;
	return expression_tree_walker(node, scalar_walker, f);
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
	if (!s.scalar || s.refused)
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
			columns_named((Query *) cte->ctequery, cte->ctecolnames))
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
			standalone(rte->subquery) && columns_named(rte->subquery, rte->eref->colnames))
		{
			f->kind = SUB_FROM;
			f->rtindex = foreach_current_index(lc) + 1;
			f->sub = rte->subquery;
			f->colnames = rte->eref->colnames;
			return true;
		}
	}
	if (scalar_walker(query->jointree->quals, f))
		return true;
	if (!aggregates(query) && scalar_walker((Node *) query->targetList, f))
		return true;
	return split_grouping(query, f) || in_walker(query->jointree->quals, f);
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
	if (f.kind == SUB_CTE)
	{
		LevelWalk	w = {0, f.cte->ctename, subrelid};

		(void) cte_walker((Node *) query, &w);
		query->cteList = list_delete_ptr(query->cteList, f.cte);
		return;
	}
	if (f.kind == SUB_FROM)
	{
		read_table(query, rt_fetch(f.rtindex, query->rtable), subrelid);
		return;
	}
	if (f.kind == SUB_GROUPED)
	{
		RangeTblEntry *rte = linitial_node(RangeTblEntry, f.outer->rtable);

		rte->eref->aliasname = get_rel_name(subrelid);
		read_table(f.outer, rte, subrelid);
		*query = *f.outer;
		return;
	}

	/* a scalar subquery's one row, or IN's matching row, joins the FROM list */
	r.sublink = f.sublink;
	if (f.kind == SUB_SCALAR)
	{
		Index		rtindex = join_table(query, subrelid, f.colnames);

		r.by = (Node *) makeVar(rtindex, 1, exprType((Node *) f.sublink),
								exprTypmod((Node *) f.sublink),
								exprCollation((Node *) f.sublink), 0);
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
