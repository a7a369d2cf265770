// Must not compile: features/ and data/ are siblings.
#include "data/chunk_loader.hpp"
