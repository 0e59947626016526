/* 3.0.x header set: same as the 3.1/3.2 one (include/v3/wrappers_defs.h). */
#include "../v3/wrappers_defs.h"
