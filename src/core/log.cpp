// Rank-aware spdlog configuration.
#include "core/log.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <filesystem>
#include <vector>

namespace tickstream {

void configure_logging(const LogOptions& o) {
  std::vector<spdlog::sink_ptr> sinks;
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  console->set_level(o.verbose ? spdlog::level::debug
                               : (o.rank == 0 ? spdlog::level::info : spdlog::level::warn));
  sinks.push_back(console);
  if (!o.dir.empty()) {
    std::filesystem::create_directories(o.dir);
    auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(
        o.dir + "/rank-" + std::to_string(o.rank) + ".log", true);
    file->set_level(spdlog::level::debug);
    sinks.push_back(file);
  }
  auto logger = std::make_shared<spdlog::logger>("tickstream", sinks.begin(), sinks.end());
  logger->set_level(spdlog::level::debug);
  logger->set_pattern(o.size > 1 ? "[%H:%M:%S.%e] [r" + std::to_string(o.rank) + "] %^%l%$ %v"
                                  : "[%H:%M:%S.%e] %^%l%$ %v");
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

void set_console_info(bool speaks) {
  const auto logger = spdlog::default_logger();
  if (!logger || logger->sinks().empty()) return;
  const spdlog::sink_ptr& console = logger->sinks().front();  // configure_logging puts it first
  if (console->level() == spdlog::level::debug) return;
  console->set_level(speaks ? spdlog::level::info : spdlog::level::warn);
}

}  // namespace tickstream
