// Must not compile: store/ is below features/ (tests/layering/CMakeLists.txt).
#include "features/pipeline.hpp"
