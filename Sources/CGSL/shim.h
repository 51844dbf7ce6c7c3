#ifndef EMBDIAG_CGSL_SHIM_H
#define EMBDIAG_CGSL_SHIM_H
// Include OpenBLAS' cblas.h first and mark gsl_cblas.h as already included: its enums clash
// with OpenBLAS' ("CBLAS_TRANSPOSE has different definitions in different modules").
#include <cblas.h>
#define __GSL_CBLAS_H__ 1
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_erf.h>
#include <gsl/gsl_errno.h>
// GSL aborts on domain errors by default; the library reports errors through return values instead.
static inline void embdiag_gsl_disable_abort(void) { gsl_set_error_handler_off(); }
#endif
