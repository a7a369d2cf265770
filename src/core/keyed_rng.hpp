// Keyed random streams (synth data, epoch orders, window shuffles): splitmix64-seeded xoshiro256**,
// portable normal and t draws, the same on every rank and platform.
#pragma once

#include <cmath>
#include <cstdint>

namespace tickstream {

// The splitmix64 finalizer: a bijective 64-bit mix.
constexpr uint64_t splitmix64_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Hashes (seed, index, purpose) to one 64-bit key; every field changes every bit.
constexpr uint64_t stream_key(uint64_t seed, uint64_t index, uint64_t purpose) {
  uint64_t h = splitmix64_mix(seed + 0x9e3779b97f4a7c15ULL);
  h = splitmix64_mix(h ^ (index + 0x632be59bd9b4e019ULL));
  return splitmix64_mix(h ^ (purpose * 0xd6e8feb86659fd93ULL + 0x8cb92ba72f3d8dd7ULL));
}

// A xoshiro256** stream whose state is splitmix64-expanded from stream_key(seed, index,
// purpose). The transforms below use only +, *, sqrt and log, so a stream gives the same doubles
// on every rank that runs the same binary (no std:: distributions, which are
// implementation-defined).
class KeyedRng {
 public:
  KeyedRng(uint64_t seed, uint64_t index, uint64_t purpose) {
    uint64_t x = stream_key(seed, index, purpose);
    for (auto& word : s_) {
      x += 0x9e3779b97f4a7c15ULL;
      word = splitmix64_mix(x);
    }
  }

  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in the open interval (0, 1): 53 random bits, centred in their cell.
  double uniform() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // exp(U(log lo, log hi)).
  double log_uniform(double lo, double hi) {
    return std::exp(uniform(std::log(lo), std::log(hi)));
  }

  // Standard normal by the Marsaglia polar method (pairs; the second is kept for the next call).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u = 0.0, v = 0.0, s = 0.0;
    do {
      u = 2.0 * uniform() - 1.0;
      v = 2.0 * uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double f = std::sqrt(-2.0 * std::log(s) / s);
    spare_ = v * f;
    has_spare_ = true;
    return u * f;
  }

  // Student-t with 5 degrees of freedom scaled to unit variance: N / sqrt(chi2_5 / 5) * sqrt(3/5),
  // chi2_5 being the sum of five squared normals.
  double student_t5() {
    const double z = normal();
    double chi2 = 0.0;
    for (int k = 0; k < 5; ++k) {
      const double n = normal();
      chi2 += n * n;
    }
    constexpr double kUnitScale = 0.7745966692414834;  // sqrt(3/5): t_5 has variance 5/3
    return z * kUnitScale / std::sqrt(chi2 / 5.0);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  uint64_t s_[4] = {0, 0, 0, 0};
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace tickstream
