// tickstream entry point: parses the command line, starts the rank context, dispatches.
#include <cstdio>
#include <cstdlib>

#include <spdlog/spdlog.h>

#include "app/commands.hpp"
#include "core/error.hpp"
#include "runtime/failure.hpp"
#include "runtime/thp.hpp"
#include "store/h5.hpp"

namespace {

int run(tickstream::RankContext& ctx, const tickstream::CommandRunner& runner) {
  using namespace tickstream;
  try {
    return runner(ctx);
  } catch (const AgreedFailure& e) {
    if (!e.own_message().empty()) std::fprintf(stderr, "error: %s\n", e.own_message().c_str());
    return e.exit_code();
  } catch (const Error& e) {
    if (ctx.size() > 1) abort_job(e, e.exit_code());
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    if (ctx.size() > 1) abort_job(e, kExitInternal);
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitInternal;
  }
}

// A failed write left an HDF5 file open (its temporary file is already removed): HDF5's teardown at
// MPI_Finalize would crash on it, so the process ends here, its output flushed, without MPI_Finalize.
[[noreturn]] void end_without_teardown(int code) {
  std::fflush(nullptr);
  spdlog::shutdown();
  std::_Exit(code);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tickstream;
  reexec_with_huge_pages(argv);
  CLI::App app{"tickstream: market-data ML on MPI ranks (ingest, features, train, predict)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", TICKSTREAM_VERSION);
  RankContextOptions opts;
  app.add_option("--log-dir", opts.log_dir, "Write a per-rank log file rank-<R>.log into this directory");
  app.add_flag("-v,--verbose", opts.verbose, "Debug logging on every rank");
  CommandRunner runner;
  add_synth(app, runner);
  add_ingest(app, runner);
  add_inspect(app, runner);
  add_features(app, runner);
  add_train(app, runner);
  add_predict(app, runner);
  add_backtest(app, runner);
  add_sweep(app, runner);
  add_bench(app, runner);
  add_version(app, runner);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (tickstream::launcher_rank().value_or(0) != 0) return e.get_exit_code() == 0 ? kExitOk : kExitInput;
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitInput;
  }
  // The data commands run one process without MPI when no launcher started them.
  for (const char* name : {"synth", "ingest", "inspect", "features"})
    opts.mpi_only_if_launched = opts.mpi_only_if_launched || app.got_subcommand(name);
  try {
    RankContext ctx(argc, argv, opts);
    const int code = run(ctx, runner);
    if (code != kExitOk && h5::open_file_count() > 0) end_without_teardown(code);
    return code;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: cannot start: %s\n", e.what());
    return kExitInternal;
  }
}
