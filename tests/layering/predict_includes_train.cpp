// Must not compile: predict/ and train/ are siblings.
#include "train/trainer.hpp"
