// How many windows fit a device's free memory: the "auto" batch sizes of training and prediction.
#pragma once

#include <cstdint>

#include "core/config.hpp"

namespace tickstream {

// A generous estimate of the activation bytes one window's forward holds at its peak in inference
// (each layer's intermediates are freed): the input, a block's hidden states and MLP expansion,
// and the attention scores with their softmax.
double inference_activation_bytes(const Config::Model& m, int64_t features);

// The same for a training step: every layer's intermediates are kept for the backward, which
// holds about as much again in their gradients.
double training_activation_bytes(const Config::Model& m, int64_t features);

// The largest power of two b <= max_batch with b x bytes_per_window <= half of free_bytes; 1 when
// none fits.
int64_t largest_fitting_batch(double bytes_per_window, double free_bytes, int64_t max_batch);

}  // namespace tickstream
