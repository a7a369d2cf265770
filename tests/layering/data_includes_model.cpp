// Must not compile: data/ is below model/ (and libtorch).
#include "model/model.hpp"
