// Shared by the fuzz targets: InputError is what bad input must raise; any other exception, a
// crash, a sanitizer report or a broken invariant is a finding (abort, so libFuzzer keeps the input).
#pragma once

#include <cxxabi.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <typeinfo>

#include "core/error.hpp"

namespace tickstream::fuzz {

[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "\nFUZZ FINDING: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

inline std::string type_name(const std::type_info& type) {
  int status = 0;
  const std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(type.name(), nullptr, nullptr, &status),
                                                    std::free);
  return status == 0 && name ? name.get() : type.name();
}

// Runs fn: true when it returned, false when it raised InputError; anything else is a finding.
template <typename Fn>
bool accepted(const char* what, Fn&& fn) {
  try {
    fn();
    return true;
  } catch (const InputError&) {
    return false;
  } catch (const Error& e) {
    finding(fmt::format("{}: {} instead of InputError: {} (at {})", what, type_name(typeid(e)), e.what(), e.origin()));
  } catch (const std::exception& e) {
    finding(fmt::format("{}: {} instead of InputError: {}", what, type_name(typeid(e)), e.what()));
  } catch (...) {
    finding(fmt::format("{}: a non-std exception instead of InputError", what));
  }
}

// The InputError message fn raises, or "" when it returns (other exceptions: a finding).
template <typename Fn>
std::string input_error_of(const char* what, Fn&& fn) {
  std::string message;
  accepted(what, [&] {
    try {
      fn();
    } catch (const InputError& e) {
      message = e.what();
      throw;
    }
  });
  return message;
}

#define FUZZ_REQUIRE(cond, ...)                                                       \
  do {                                                                                \
    if (!(cond)) ::tickstream::fuzz::finding(fmt::format("{}: ", #cond) + fmt::format(__VA_ARGS__)); \
  } while (0)

// The fuzzer's bytes as a consumable stream: leading option bytes, then the rest.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : text_(reinterpret_cast<const char*>(data), size) {}
  uint8_t byte() {
    if (text_.empty()) return 0;
    const auto b = static_cast<uint8_t>(text_.front());
    text_.remove_prefix(1);
    return b;
  }
  std::string_view rest() const { return text_; }

 private:
  std::string_view text_;
};

}  // namespace tickstream::fuzz
