/*-------------------------------------------------------------------------
 *
 * floatsum.c
 *		Exact sums of floating-point values, for the state of sum, avg and
 *		the variance family over float4 and float8.
 *
 * PostgreSQL sums float8 values in float8, in whatever order the scan
 * gives them; an incremental refresh adds and subtracts them in another
 * order, and subtraction after addition is where float8 sums lose their
 * digits.  A variance is worse: n * sum(x^2) - sum(x)^2 cancels almost
 * everything, so a group of equal values must come out as exactly 0.
 * So the state keeps every such sum exactly, as a floating-point
 * expansion: a list of float8 components, nonoverlapping and in order of
 * increasing magnitude, whose exact sum is the value (Shewchuk, "Adaptive
 * Precision Floating-Point Arithmetic", 1997).  A value is added to it
 * with one error-free TwoSum per component, zero components are dropped,
 * and a square x*x enters as its two exact halves (fma).  Sums of ordinary
 * data keep two or three components; the exponent range bounds the length.
 * The expansion is stored as float8[] ('{}' is zero).
 *
 *	dt_internal.fsum(x float8, sign int2)		aggregate: sum of sign * x
 *	dt_internal.fsum_sq(x float8, sign int2)	aggregate: sum of sign * x * x
 *	dt_internal.fsum_add(a float8[], b float8[])	a + b
 *	dt_internal.fsum_float8(a float8[])		the float8 nearest to a
 *	dt_internal.fsum_numeric(a float8[])		a as numeric, exactly
 *	dt_internal.fsum_variance(n int8, s float8[], ss float8[], sample bool)
 *		the variance of n values whose sum is s and sum of squares ss
 *
 * A sum that overflows float8 fails as PostgreSQL's float8 sum does.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"

#include "common.h"

PG_FUNCTION_INFO_V1(dt_fsum_accum);
PG_FUNCTION_INFO_V1(dt_fsum_accum_sq);
PG_FUNCTION_INFO_V1(dt_fsum_final);
PG_FUNCTION_INFO_V1(dt_fsum_add);
PG_FUNCTION_INFO_V1(dt_fsum_float8);
PG_FUNCTION_INFO_V1(dt_fsum_numeric);
PG_FUNCTION_INFO_V1(dt_fsum_variance);

/*
 * Nonoverlapping components each hold at least one bit of the 2098-bit
 * range of float8 (subnormals included), so no expansion is longer.
 */
#define EXPANSION_MAX 48

typedef struct Expansion
{
	int			n;
	double		c[EXPANSION_MAX];	/* increasing magnitude, none zero */
} Expansion;

/* expansion_add_double: e += x, exactly; x must be finite. */
static void
expansion_add_double(Expansion *e, double x)
{
	int			out = 0;
	int			i;

	if (!isfinite(x))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a floating-point sum cannot include NaN or infinity"),
				 errdetail("Their counts are kept apart from the sum.")));
	for (i = 0; i < e->n; i++)
	{
		double		s = x + e->c[i];
		double		bv = s - x;
		double		err = (x - (s - bv)) + (e->c[i] - bv);

		if (err != 0)
			e->c[out++] = err;
		x = s;
	}
	if (!isfinite(x))
		float_overflow_error();
	if (x != 0)
	{
		/* only an array that is not an expansion (made by hand) gets here */
		if (out >= EXPANSION_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a floating-point sum has at most %d components", EXPANSION_MAX),
					 errdetail("The array is not a sum made by dt_internal.fsum.")));
		e->c[out++] = x;
	}
	e->n = out;
}

/*
 * expansion_from_array / expansion_to_array: the float8[] form of the state.
 * An array from SQL can be anything: it must be one-dimensional, at most
 * EXPANSION_MAX finite components, no NULLs (checked before it is
 * deconstructed, so that a huge array costs nothing).
 */
static void
expansion_from_array(ArrayType *array, Expansion *e)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("a floating-point sum is a one-dimensional array")));
	n = ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array));
	if (n > EXPANSION_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a floating-point sum has at most %d components, not %d", EXPANSION_MAX, n)));
	deconstruct_array(array, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls, &n);
	for (i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("a floating-point sum has no NULL components")));
		e->c[i] = DatumGetFloat8(elems[i]);
		if (!isfinite(e->c[i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a floating-point sum has only finite components")));
	}
	e->n = n;
}

/* expansion_to_array: an expansion as the float8[] a sum is stored as. */
static Datum
expansion_to_array(const Expansion *e)
{
	Datum		elems[EXPANSION_MAX];
	int			i;

	for (i = 0; i < e->n; i++)
		elems[i] = Float8GetDatum(e->c[i]);
	return PointerGetDatum(construct_array(elems, e->n, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* fsum_state: the aggregate's running sum, created in the aggregate context. */
static Expansion *
fsum_state(FunctionCallInfo fcinfo)
{
	MemoryContext aggcxt;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s can only be called as the transition function of an aggregate",
						get_func_name(fcinfo->flinfo->fn_oid))));
	if (PG_ARGISNULL(0))
		return (Expansion *) MemoryContextAllocZero(aggcxt, sizeof(Expansion));
	return (Expansion *) PG_GETARG_POINTER(0);
}

/* dt_fsum_accum: transition of fsum(x, sign); NULL x is skipped. */
Datum
dt_fsum_accum(PG_FUNCTION_ARGS)
{
	Expansion  *state = fsum_state(fcinfo);

	if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2))
	{
		double		x = PG_GETARG_FLOAT8(1);
		double		term = x * PG_GETARG_INT16(2);

		if (isfinite(x) && !isfinite(term))
			float_overflow_error();
		expansion_add_double(state, term);
	}
	PG_RETURN_POINTER(state);
}

/* dt_fsum_accum_sq: transition of fsum_sq(x, sign), the square exact via fma. */
Datum
dt_fsum_accum_sq(PG_FUNCTION_ARGS)
{
	Expansion  *state = fsum_state(fcinfo);

	if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2))
	{
		double		x = PG_GETARG_FLOAT8(1);
		double		sign = PG_GETARG_INT16(2);
		double		p = x * x;

		/*
		 * PostgreSQL's own variance never squares a value, only its distance
		 * from the mean: the query may give a result that the sum of squares
		 * kept for it cannot hold
		 */
		if (isfinite(x) && !isfinite(p * sign))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("value out of range: overflow"),
					 errdetail("The square of %g, kept in the state of a variance or standard deviation "
							   "to refresh it incrementally, is beyond the range of double precision.", x),
					 errhint("Refresh the dynamic table in full: refresh_mode => 'full'.")));
		expansion_add_double(state, fma(x, x, -p) * sign);
		expansion_add_double(state, p * sign);
	}
	PG_RETURN_POINTER(state);
}

/* dt_fsum_final: the sum as float8[]; '{}' over no rows. */
Datum
dt_fsum_final(PG_FUNCTION_ARGS)
{
	Expansion	zero = {0};

	if (PG_ARGISNULL(0))
		return expansion_to_array(&zero);
	return expansion_to_array((Expansion *) PG_GETARG_POINTER(0));
}

/* dt_fsum_add: dt_internal.fsum_add(a, b), for merging sums. */
Datum
dt_fsum_add(PG_FUNCTION_ARGS)
{
	Expansion	a;
	Expansion	b;
	int			i;

	expansion_from_array(PG_GETARG_ARRAYTYPE_P(0), &a);
	expansion_from_array(PG_GETARG_ARRAYTYPE_P(1), &b);
	for (i = 0; i < b.n; i++)
		expansion_add_double(&a, b.c[i]);
	return expansion_to_array(&a);
}

/* dt_fsum_float8: the float8 nearest to the sum (smallest components first). */
Datum
dt_fsum_float8(PG_FUNCTION_ARGS)
{
	Expansion	e;
	double		result = 0;
	int			i;

	expansion_from_array(PG_GETARG_ARRAYTYPE_P(0), &e);
	for (i = 0; i < e.n; i++)
		result += e.c[i];
	/* only an array that is not an expansion (made by hand) overflows here */
	if (!isfinite(result))
		float_overflow_error();
	PG_RETURN_FLOAT8(result);
}

/*
 * exact_numeric
 *		A finite float8 as numeric, exactly: x = f * 2^k with a 53-bit f has
 *		at most 53 - k digits after the point, and printf prints them exactly
 *		(PostgreSQL's snprintf stops at 350 digits, which still leaves
 *		subnormals correct to 25 significant digits).
 */
static Datum
exact_numeric(double value)
{
	int			k;
	char	   *buf;

	(void) frexp(value, &k);
	buf = psprintf("%.*f", Max(53 - k, 0), value);
	return DirectFunctionCall3(numeric_in, CStringGetDatum(buf), ObjectIdGetDatum(InvalidOid),
							   Int32GetDatum(-1));
}

/* expansion_numeric: the exact sum of an expansion as numeric. */
static Datum
expansion_numeric(const Expansion *e)
{
	Datum		result = DirectFunctionCall1(int4_numeric, Int32GetDatum(0));
	int			i;

	for (i = 0; i < e->n; i++)
		result = DirectFunctionCall2(numeric_add, result, exact_numeric(e->c[i]));
	return result;
}

/*
 * dt_fsum_numeric
 *		The sum as numeric, exactly, for computing variances (fsum_variance):
 *		n * sum(x^2) - sum(x)^2 cancels most digits when the mean is large
 *		against the spread, and all of them when the values are equal.
 */
Datum
dt_fsum_numeric(PG_FUNCTION_ARGS)
{
	Expansion	e;

	expansion_from_array(PG_GETARG_ARRAYTYPE_P(0), &e);
	return expansion_numeric(&e);
}

/*
 * dt_fsum_variance
 *		var_samp (sample) or var_pop of n values whose exact sum is s and sum
 *		of squares ss: n * ss - s * s over n * (n - 1) or n * n, in numeric
 *		operation by operation as the SQL expression
 *		((n::numeric * S2 - S * S) / (n::numeric * (n - 1)::numeric))::float8
 *		of the sums as numeric (S = fsum_numeric(s), S2 = fsum_numeric(ss))
 *		computes it, and 0 where that numerator is not positive (all values
 *		equal), as numeric_stddev_internal does.  Each sum is converted once,
 *		where the SQL converts it in every place it names it: the finalization
 *		of a variance is what a refresh of few changes to many groups spends
 *		most on after the merge itself.  A variance beyond float8 fails as
 *		float8's own arithmetic does ("value out of range: overflow"), not
 *		with numeric_float8's message quoting every digit of the numeric.
 */
Datum
dt_fsum_variance(PG_FUNCTION_ARGS)
{
	int64		n = PG_GETARG_INT64(0);
	bool		sample = PG_GETARG_BOOL(3);
	Expansion	s;
	Expansion	ss;
	Datum		sum;
	Datum		numerator;
	Datum		divisor;
	float8		variance;
	Datum		zero = DirectFunctionCall1(int4_numeric, Int32GetDatum(0));

	if (sample && n < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a sample variance needs at least two values, not " INT64_FORMAT, n)));
	if (n < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a population variance needs at least one value, not " INT64_FORMAT, n)));
	expansion_from_array(PG_GETARG_ARRAYTYPE_P(1), &s);
	expansion_from_array(PG_GETARG_ARRAYTYPE_P(2), &ss);
	sum = expansion_numeric(&s);
	numerator = DirectFunctionCall2(numeric_sub,
									DirectFunctionCall2(numeric_mul,
														DirectFunctionCall1(int8_numeric, Int64GetDatum(n)),
														expansion_numeric(&ss)),
									DirectFunctionCall2(numeric_mul, sum, sum));
	if (DatumGetBool(DirectFunctionCall2(numeric_le, numerator, zero)))
		PG_RETURN_FLOAT8(0);
	divisor = DirectFunctionCall2(numeric_mul, DirectFunctionCall1(int8_numeric, Int64GetDatum(n)),
								  DirectFunctionCall1(int8_numeric, Int64GetDatum(sample ? n - 1 : n)));
	variance = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
												  DirectFunctionCall2(numeric_div, numerator, divisor)));
	if (isinf(variance))
		float_overflow_error();
	PG_RETURN_FLOAT8(variance);
}
