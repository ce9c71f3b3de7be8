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
 * same rows.
 *
 * internal_find finds the next such subquery, in an order that makes each
 * a standalone query once those before it are read from their tables
 * (WITH queries, then subqueries in FROM, then scalar subqueries in WHERE,
 * each pass over the query as rewritten so far); internal_replace makes
 * the query read the table made for it, and internal_read rewrites a query
 * to read the tables a DT has.  The stored query of a DT stays the one its
 * owner wrote: analysis_analyze reads it through its internal tables.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
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
	SUB_SCALAR					/* a SubLink of the WHERE clause */
} SubKind;

typedef struct SubFound
{
	SubKind		kind;
	CommonTableExpr *cte;
	Index		rtindex;
	SubLink    *sublink;
	Query	   *sub;			/* its query, as written */
	List	   *colnames;		/* the names of its output columns */
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
	if (IsA(node, Param))
		return true;
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

/* scalar_walker: the first uncorrelated scalar aggregate SubLink. */
static bool
scalar_walker(Node *node, SubFound *f)
{
	if (node == NULL)
		return false;
	if (IsA(node, SubLink))
	{
		SubLink    *link = (SubLink *) node;
		Query	   *sub = (Query *) link->subselect;

		if (link->subLinkType == EXPR_SUBLINK && aggregates(sub) && sub->hasAggs &&
			sub->groupClause == NIL && sub->groupingSets == NIL && sub->havingQual == NULL &&
			sub->limitCount == NULL && sub->limitOffset == NULL && !sub->hasTargetSRFs &&
			!sub->hasWindowFuncs && standalone(sub))
		{
			TargetEntry *tle = linitial_node(TargetEntry, sub->targetList);

			f->kind = SUB_SCALAR;
			f->sublink = link;
			f->sub = sub;
			f->colnames = list_make1(makeString(tle->resname != NULL ? tle->resname : "value"));
			if (columns_named(sub, f->colnames))
				return true;
			f->kind = SUB_NONE;
		}
		return expression_tree_walker(link->testexpr, scalar_walker, f);
	}
	if (IsA(node, Query))
		return false;
	return expression_tree_walker(node, scalar_walker, f);
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
	return scalar_walker(query->jointree->quals, f);
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

/* scalar_mutator: the SubLink found replaced by the Var of its table. */
static Node *
scalar_mutator(Node *node, void *context)
{
	void	  **args = (void **) context;

	if (node == NULL)
		return NULL;
	if (node == args[0])
		return (Node *) copyObject(args[1]);
	if (IsA(node, Query))
		return node;
	return expression_tree_mutator(node, scalar_mutator, context);
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

	if (!find(query, &f))
		elog(ERROR, "no subquery to read from an internal dynamic table");
	if (f.kind == SUB_CTE)
	{
		LevelWalk	w = {0, f.cte->ctename, subrelid};

		(void) cte_walker((Node *) query, &w);
		query->cteList = list_delete_ptr(query->cteList, f.cte);
	}
	else if (f.kind == SUB_FROM)
		read_table(query, rt_fetch(f.rtindex, query->rtable), subrelid);
	else
	{
		RangeTblEntry *rte = makeNode(RangeTblEntry);
		RangeTblRef *ref = makeNode(RangeTblRef);
		char	   *name = get_rel_name(subrelid);
		void	   *args[2];

		rte->eref = makeAlias(name, list_copy(f.colnames));
		rte->inFromCl = true;
		read_table(query, rte, subrelid);
		query->rtable = lappend(query->rtable, rte);
		ref->rtindex = list_length(query->rtable);
		query->jointree->fromlist = lappend(query->jointree->fromlist, ref);
		args[0] = f.sublink;
		args[1] = makeVar(ref->rtindex, 1, exprType((Node *) f.sublink),
						  exprTypmod((Node *) f.sublink), exprCollation((Node *) f.sublink), 0);
		query->jointree->quals = scalar_mutator(query->jointree->quals, args);
		query->hasSubLinks = checkExprHasSubLink((Node *) query);
	}
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
