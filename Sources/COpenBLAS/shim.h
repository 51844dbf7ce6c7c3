#ifndef EMBDIAG_COPENBLAS_SHIM_H
#define EMBDIAG_COPENBLAS_SHIM_H
// OpenBLAS' cblas.h (found through pkg-config openblas), then LAPACKE for real routines only.
#include <cblas.h>
#include <lapacke.h>
#include <stdio.h>
#include <unistd.h>
// OpenBLAS internals that cblas.h does not declare (exported by libopenblas): re-read the
// OPENBLAS_* environment, and stop the thread pool (the next call starts it with the new settings).
void openblas_read_env(void);
int blas_thread_shutdown_(void);
// Swift 6 rejects C mutable globals such as stdout: reach them through accessors.
static inline void embdiag_line_buffer_stdout(void) { setvbuf(stdout, NULL, _IOLBF, 0); }
static inline int embdiag_stderr_is_tty(void) { return isatty(2); }
static inline FILE *embdiag_stdout(void) { return stdout; }
#endif
