// Must not compile: comm/ is below runtime/.
#include "runtime/rank_context.hpp"
