// OpenBLAS's CBLAS interface; Debian puts cblas.h under the pkg-config include path of libopenblas-dev.
#include <cblas.h>
