// `tickstream ingest`: CSV and Parquet files into a store, in parallel over ranks.
#include <fstream>
#include <memory>

#include "app/commands.hpp"
#include "comm/agreement.hpp"
#include "runtime/placement.hpp"
#include "store/atomic_output.hpp"
#include "store/file_util.hpp"
#include "store/ingest.hpp"

namespace tickstream {
namespace {

std::string summary(const IngestReport& r, const std::string& store) {
  std::string s = fmt::format(
      "ingest: {} files ({:.1f} MB), {} rows -> {} tickers x {} bars ({}) in {}\n"
      "        {:.2f} s total on {} rank(s): parse {:.2f} s, exchange {:.2f} s, write {:.2f} s; "
      "{:.0f} rows/s, {:.1f} MB/s\n",
      r.files, r.bytes / 1e6, r.rows_read, r.tickers, r.bars, r.frequency, store, r.total_s, r.ranks,
      r.parse_s, r.exchange_s, r.write_s, r.rows_read / r.total_s, r.bytes / 1e6 / r.total_s);
  for (int i = 0; i < kRejectReasonCount; ++i)
    if (r.rejected[static_cast<size_t>(i)] > 0)
      s += fmt::format("        skipped {} rows: {}\n", r.rejected[static_cast<size_t>(i)],
                       reason_name(static_cast<RejectReason>(i)));
  return s;
}

}  // namespace

void add_ingest(CLI::App& app, CommandRunner& runner) {
  auto opt = std::make_shared<IngestOptions>();
  auto report_path = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("ingest", "Ingest OHLCV files (CSV, .csv.gz/.zst, Parquet; per-ticker or long format) into a store");
  auto layout = std::make_shared<std::string>("auto");
  auto columns = std::make_shared<std::string>();
  auto threads = std::make_shared<int>(0);
  cmd->add_option("--input", opt->inputs, "Input files (.csv/.txt, optionally .gz/.zst; .parquet) or directories of them")
      ->required()
      ->expected(1, -1);
  cmd->add_option("--layout", *layout, "Known vendor column layout: auto|yahoo|stooq|polygon-flat (docs/ingest.md)");
  cmd->add_option("--columns", *columns, "Column mapping for vendor headers: date=Date,open=Open,...[,date_format=...]");
  cmd->add_option("--store", opt->store, "Output store (.h5)")->required();
  cmd->add_option("--on-error", opt->on_error, "fail: exit 2 on the first bad row; skip: drop bad rows")
      ->transform(CLI::CheckedTransformer(std::map<std::string, OnError>{{"fail", OnError::Fail}, {"skip", OnError::Skip}}));
  cmd->add_option("--chunk-tickers", opt->chunk_tickers, "Store chunk shape: tickers")->check(CLI::PositiveNumber);
  cmd->add_option("--chunk-bars", opt->chunk_bars, "Store chunk shape: bars")->check(CLI::PositiveNumber);
  cmd->add_option("--report", *report_path, "Write the ingest report (counts, timings) as JSON here");
  cmd->add_option("--threads", *threads, "Pieces parsed at once per rank (0: this rank's share of the node's cores)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([&runner, opt, report_path, layout, columns, threads] {
    runner = [opt, report_path, layout, columns, threads](RankContext& ctx) {
      run_agreed(ctx.comm(), [&] {
        opt->columns = layout_columns(*layout);
        apply_column_spec(opt->columns, *columns);
        if (!report_path->empty()) require_output_path(*report_path);
      });
      opt->threads = *threads > 0 ? *threads : cpu_share(ctx.local_size());
      const IngestReport rep = run_ingest(ctx.comm(), *opt);
      print_root(ctx, summary(rep, opt->store));
      if (!report_path->empty())
        run_agreed(ctx.comm(), [&] {
          if (ctx.is_root()) write_file_atomically(*report_path, rep.to_json().dump(2) + "\n");
        });
      return 0;
    };
  });
}

}  // namespace tickstream
