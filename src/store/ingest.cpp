// `tickstream ingest`: plan the inputs' pieces, parse them in parallel, agree, exchange, write the store.
#include "store/ingest.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <filesystem>
#include <iterator>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <thread>

#include "comm/collectives.hpp"
#include "core/error.hpp"
#include "core/stopwatch.hpp"
#include "core/partition.hpp"
#include "comm/agreement.hpp"
#include "runtime/fault.hpp"
#include "store/atomic_output.hpp"
#include "store/raw_chunks.hpp"
#include "store/parquet_reader.hpp"
#include "store/store_writer.hpp"
#include "store/synth_run.hpp"

namespace tickstream {
namespace fs = std::filesystem;

std::string infer_frequency(const std::vector<int64_t>& time) {
  int64_t step = 0;
  bool midnight = true;
  for (size_t i = 0; i < time.size(); ++i) {
    midnight = midnight && time[i] % 86400 == 0;
    if (i > 0 && (step == 0 || time[i] - time[i - 1] < step)) step = time[i] - time[i - 1];
  }
  if (midnight || step == 0) {
    if (step >= 28 * 86400) return "1mo";
    return step >= 7 * 86400 ? "1w" : "1d";
  }
  if (step % 3600 == 0) return fmt::format("{}h", step / 3600);
  if (step % 60 == 0) return fmt::format("{}min", step / 60);
  return fmt::format("{}s", step);
}

nlohmann::json IngestReport::to_json() const {
  nlohmann::json rej = nlohmann::json::object();
  for (int i = 0; i < kRejectReasonCount; ++i)
    rej[std::string(reason_name(static_cast<RejectReason>(i)))] = rejected[static_cast<size_t>(i)];
  return {{"ranks", ranks}, {"files", files}, {"bytes", bytes}, {"rows_read", rows_read},
          {"rows_stored", rows_stored}, {"tickers", tickers}, {"bars", bars},
          {"frequency", frequency}, {"rejected", rej}, {"parse_s", parse_s},
          {"exchange_s", exchange_s}, {"write_s", write_s}, {"total_s", total_s}};
}

namespace {

std::vector<int64_t> piece_weights(const std::vector<InputPiece>& pieces) {
  std::vector<int64_t> w;
  for (const auto& p : pieces) w.push_back(p.weight);
  return w;
}

struct LocalParse {
  std::vector<TickerBars> tickers;
  std::vector<Rejection> rejections;
  int64_t rows_read = 0;
  bool has_adj = false;
};

ParsedFile parse_piece(const InputFile& file, const InputPiece& p, OnError policy, const ColumnMap& columns) {
  if (input_format(file.path) == InputFormat::Parquet)
    return parse_parquet_file(file.path, p.file, policy, columns, RowGroupRange{p.first_group, p.groups});
  if (p.whole) return parse_csv_file(file.path, p.file, policy, columns);
  return parse_csv_piece(file.path, p.file, policy, columns, p.begin, p.end);
}

// Runs parse(i) for i in [0, n) on `threads` threads (this thread one of them), pieces taken in
// order as threads free. The first exception in piece order is rethrown after all have ended.
template <typename Parse>
void parse_on_threads(size_t n, int threads, Parse&& parse) {
  std::vector<std::exception_ptr> errors(n);
  std::atomic<size_t> next{0};
  const auto work = [&] {
    for (size_t i = next++; i < n; i = next++) {
      try {
        parse(i);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads && static_cast<size_t>(t) < n; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
}

// Lines (CSV pieces) before each piece within its file, from every rank's line counts: pieces
// number their lines from 1 and learn their place only here. Collective.
std::vector<int64_t> line_offsets(comm::Communicator& comm, const std::vector<InputPiece>& pieces,
                                  const std::vector<std::pair<size_t, ParsedFile>>& mine) {
  std::vector<int64_t> lines(pieces.size(), 0);
  for (const auto& [k, parsed] : mine) lines[k] = parsed.lines;
  comm::allreduce_inplace(comm, lines, comm::ReduceOp::sum);
  std::vector<int64_t> offset(pieces.size(), 0);
  for (size_t k = 1; k < pieces.size(); ++k)
    if (pieces[k].file == pieces[k - 1].file) offset[k] = offset[k - 1] + lines[k - 1];
  return offset;
}

void renumber(ParsedFile& parsed, int64_t offset, bool first_piece) {
  for (auto& t : parsed.tickers)
    for (Bar& b : t.bars) b.line += static_cast<int32_t>(offset);
  std::vector<Rejection> kept;
  for (Rejection& r : parsed.rejections) {
    if (r.line == 0 && !first_piece) continue;  // a whole-file problem: counted once, by the first piece
    if (r.line > 0) r.line += offset;
    kept.push_back(std::move(r));
  }
  parsed.rejections = std::move(kept);
}

// Parses this rank's pieces and groups their bars by ticker. Collective (line numbers of split files).
LocalParse parse_my_pieces(comm::Communicator& comm, const std::vector<InputFile>& files,
                           const std::vector<InputPiece>& pieces, const IngestOptions& opt) {
  const std::vector<int> owner = balanced_owners(piece_weights(pieces), comm.size());
  std::vector<std::pair<size_t, ParsedFile>> mine;
  for (size_t k = 0; k < pieces.size(); ++k)
    if (owner[k] == comm.rank()) mine.emplace_back(k, ParsedFile{});
  run_agreed(comm, [&] {
    parse_on_threads(mine.size(), opt.threads, [&](size_t i) {
      const InputPiece& p = pieces[mine[i].first];
      mine[i].second = parse_piece(files[static_cast<size_t>(p.file)], p, opt.on_error, opt.columns);
    });
    if (opt.on_error != OnError::Fail) return;
    for (size_t i = 0; i < mine.size(); ++i)  // a split file's first problem: the pieces after it do not count
      if (!mine[i].second.rejections.empty()) {
        mine.resize(i + 1);
        break;
      }
  });
  const std::vector<int64_t> offset = line_offsets(comm, pieces, mine);
  for (auto& [k, parsed] : mine)
    renumber(parsed, offset[k], pieces[k].whole || (pieces[k].begin == 0 && pieces[k].first_group == 0));
  run_agreed(comm, [&] {
    for (const auto& [k, parsed] : mine)
      if (opt.on_error == OnError::Fail && !parsed.rejections.empty()) TS_INPUT_ERROR("{}", parsed.rejections.front().message());
  });
  LocalParse out;
  std::map<std::string, std::vector<Bar>> by_ticker;
  for (auto& [k, p] : mine) {
    out.rows_read += p.rows_read;
    out.has_adj = out.has_adj || p.has_adj_close;
    for (auto& r : p.rejections) out.rejections.push_back(std::move(r));
    for (auto& t : p.tickers) {
      auto& dst = by_ticker[t.ticker];
      if (dst.empty()) dst = std::move(t.bars);
      else dst.insert(dst.end(), t.bars.begin(), t.bars.end());
    }
    p = ParsedFile{};
  }
  for (auto& [name, bars] : by_ticker) out.tickers.push_back({name, std::move(bars)});
  return out;
}

// Sorted union of the owned tickers' (sorted, unique) times, merged pairwise: O(total bars).
std::vector<int64_t> global_calendar(comm::Communicator& comm, const std::vector<TickerBars>& owned) {
  std::vector<int64_t> mine, times, merged;
  for (const auto& t : owned) {
    times.clear();
    for (const Bar& b : t.bars) times.push_back(b.time);
    merged.clear();
    std::set_union(mine.begin(), mine.end(), times.begin(), times.end(), std::back_inserter(merged));
    mine.swap(merged);
  }
  std::vector<int64_t> all = comm::allgatherv(comm, mine);
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

// Calls visit(row, positions) for every owned row: its bars' positions in the calendar.
template <typename Visit>
void for_each_row(const OwnedTickers& o, const std::vector<int64_t>& time, Visit&& visit) {
  std::vector<int64_t> at;
  for (size_t r = 0; r < o.owned.size(); ++r) {
    at.clear();
    size_t t = 0;
    for (const Bar& bar : o.owned[r].bars) {
      while (time[t] < bar.time) ++t;  // both sorted; every bar time is in the calendar
      at.push_back(static_cast<int64_t>(t));
    }
    visit(static_cast<int64_t>(r), at);
  }
}

double field_of(const Bar& b, RawField f) {
  switch (f) {
    case RawField::Open: return b.open;
    case RawField::High: return b.high;
    case RawField::Low: return b.low;
    case RawField::Close: return b.close;
    case RawField::Volume: return b.volume;
    case RawField::AdjClose: return b.adj_close;
  }
  return 0;
}

void log_rejections(const std::vector<Rejection>& rejections) {
  constexpr size_t kShown = 20;
  for (size_t i = 0; i < std::min(kShown, rejections.size()); ++i)
    spdlog::warn("skipped {}", rejections[i].message());
  if (rejections.size() > kShown) spdlog::warn("... and {} more skipped rows", rejections.size() - kShown);
}

// This rank's rows of /raw field `field` (price fields in dataset order, then valid), sealed, in
// `chunks` (one buffer for every field).
void fill_owned_chunks(RawChunks& chunks, const OwnedTickers& owned, const StoreLayout& layout, size_t field,
                       size_t fields) {
  const bool valid = field + 1 == fields;
  chunks.reuse_for(valid ? 1 : sizeof(double));
  if (valid) {
    chunks.fill<uint8_t>(0);
    for_each_row(owned, layout.time, [&](int64_t r, const std::vector<int64_t>& at) {
      chunks.set_row<uint8_t>(r, at, [](size_t) { return uint8_t{1}; });
    });
  } else {
    const auto f = static_cast<RawField>(field);
    chunks.fill(std::numeric_limits<double>::quiet_NaN());
    for_each_row(owned, layout.time, [&](int64_t r, const std::vector<int64_t>& at) {
      const std::vector<Bar>& bars = owned.owned[static_cast<size_t>(r)].bars;
      chunks.set_row<double>(r, at, [&](size_t i) { return field_of(bars[i], f); });
    });
  }
  chunks.seal();
}

// The other ranks' sealed chunks of one field in one buffer on rank 0, rank after rank; `bytes`:
// each rank's size (its own stay where they are). One alltoallv straight from and into them.
std::vector<uint8_t> gather_on_root(comm::Communicator& comm, const RawChunks& mine, const std::vector<int64_t>& bytes) {
  const auto n = static_cast<size_t>(comm.size());
  const bool root = comm.rank() == 0;
  std::vector<int64_t> send_counts(n, 0), recv_counts(n, 0);
  if (!root) send_counts[0] = static_cast<int64_t>(mine.bytes().size());
  for (size_t r = 1; r < n && root; ++r) recv_counts[r] = bytes[r];
  std::vector<uint8_t> recv(static_cast<size_t>(std::accumulate(recv_counts.begin(), recv_counts.end(), int64_t{0})));
  comm.alltoallv_async(comm::host_buffer(mine.bytes().data(), static_cast<size_t>(send_counts[0])), send_counts,
                       comm::host_buffer(recv.data(), recv.size()), recv_counts)
      ->wait();
  return recv;
}

// The ingest attributes of /raw (rejections, sources, policy) and the synth sidecar's, if any.
void write_attributes(StoreWriter& writer, const IngestOptions& opt, const IngestReport& report,
                      const std::vector<InputFile>& files) {
  for (int i = 0; i < kRejectReasonCount; ++i)
    h5::set_attr(writer.raw_group(), "rejected_" + std::string(reason_name(static_cast<RejectReason>(i))),
                 report.rejected[static_cast<size_t>(i)]);
  h5::set_attr(writer.raw_group(), "source_files", report.files);
  h5::set_attr(writer.raw_group(), "on_error", std::string(opt.on_error == OnError::Fail ? "fail" : "skip"));
  std::vector<std::string> paths;
  for (const auto& f : files) paths.push_back(f.path);
  if (auto info = find_synth_sidecar(paths)) write_synth_attrs(writer.root(), *info);
}

// The store, written without MPI-IO: every rank fills and checksums its own rows' chunks (the
// work of the filter pipeline) in parallel, rank 0 alone opens the file (serial HDF5) and writes
// every rank's chunks as they are (H5Dwrite_chunk), a field at a time. Rank 0's failure (a full
// disk) is agreed after the last gather, so no rank waits on a writer that has stopped.
void write_store(comm::Communicator& comm, const IngestOptions& opt, const StoreLayout& layout, const OwnedTickers& owned,
                 const IngestReport& report, const std::vector<InputFile>& files) {
  AtomicOutput out(opt.store, comm);
  const bool root = comm.rank() == 0;
  std::optional<StoreWriter> writer;
  std::exception_ptr failure;
  const auto on_root = [&](const std::function<void()>& step) {
    if (!root || failure) return;
    try {
      out.write(step);
    } catch (...) {
      failure = std::current_exception();
    }
  };
  const double created_at = monotonic_seconds();
  on_root([&] { writer.emplace(out.temp_path(), nullptr, layout); });
  const double create_s = monotonic_seconds() - created_at;
  const std::vector<int64_t> begins = comm::allgatherv(comm, std::vector<int64_t>{owned.row_begin});
  const std::vector<int64_t> rows =
      comm::allgatherv(comm, std::vector<int64_t>{static_cast<int64_t>(owned.owned.size())});
  const ChunkGrid grid(static_cast<int64_t>(layout.tickers.size()), static_cast<int64_t>(layout.time.size()),
                       layout.chunk_tickers, layout.chunk_bars);
  maybe_inject_fault("ingest_write", comm.rank());  // mid-write: the others fill and gather
  const size_t fields = store::kPriceFields.size() + (layout.has_adj_close ? 1 : 0) + 1;
  double fill_s = 0, gather_s = 0, write_s = 0;
  RawChunks mine(grid, owned.row_begin, static_cast<int64_t>(owned.owned.size()), sizeof(double));
  for (size_t field = 0; field < fields; ++field) {
    const size_t value_bytes = field + 1 == fields ? 1 : sizeof(double);
    std::vector<ChunkBlock> blocks;
    std::vector<int64_t> sizes;
    for (size_t r = 0; r < begins.size(); ++r) {
      blocks.push_back({grid, begins[r], rows[r], value_bytes, nullptr});
      sizes.push_back(static_cast<int64_t>(blocks.back().bytes()));
    }
    double t0 = monotonic_seconds();
    fill_owned_chunks(mine, owned, layout, field, fields);
    double t1 = monotonic_seconds();
    const std::vector<uint8_t> others = gather_on_root(comm, mine, sizes);
    double t2 = monotonic_seconds();
    on_root([&] {
      writer->write_chunks(field, mine.block());
      const uint8_t* at = others.data();
      for (size_t r = 1; r < blocks.size(); at += blocks[r].bytes(), ++r) {
        blocks[r].data = at;
        writer->write_chunks(field, blocks[r]);
      }
    });
    fill_s += t1 - t0, gather_s += t2 - t1, write_s += monotonic_seconds() - t2;
  }
  const double t3 = monotonic_seconds();
  on_root([&] {
    write_attributes(*writer, opt, report, files);
    writer->close();
  });
  spdlog::debug("ingest: store created {:.3f} s, chunks filled and sealed {:.3f} s, gathered {:.3f} s, written "
                "{:.3f} s, closed {:.3f} s", create_s, fill_s, gather_s, write_s, monotonic_seconds() - t3);
  agree_on_failure(comm, failure);
  out.commit();
}

}  // namespace

IngestReport run_ingest(comm::Communicator& comm, const IngestOptions& opt) {
  const double t0 = monotonic_seconds();
  IngestReport rep;
  rep.ranks = comm.size();
  std::vector<InputFile> files;
  run_agreed(comm, [&] {
    require_output_path(opt.store);
    files = list_inputs(opt.inputs);
  });
  for (const auto& f : files) rep.bytes += f.bytes;
  rep.files = static_cast<int64_t>(files.size());

  std::vector<InputPiece> pieces;
  // Pieces for every parser (ranks x threads, the fewest threads of any rank: every rank must plan
  // the same pieces), so one big file keeps the threads of a single rank busy too.
  const int parsers = rep.ranks * comm::allreduce<int32_t>(comm, std::max(1, opt.threads), comm::ReduceOp::min);
  run_agreed(comm, [&] { pieces = plan_pieces(files, parsers, opt.min_piece_bytes); });
  LocalParse parsed = parse_my_pieces(comm, files, pieces, opt);
  spdlog::debug("ingest: parsed {} rows of {} tickers from {} piece(s) in {:.3f} s", parsed.rows_read,
                parsed.tickers.size(), pieces.size(), monotonic_seconds() - t0);
  const double t1 = monotonic_seconds();
  OwnedTickers owned = exchange_to_owners(comm, std::move(parsed.tickers), files, opt.chunk_tickers, opt.on_error,
                                          parsed.rejections);
  StoreLayout layout;
  layout.tickers = owned.all_tickers;
  layout.time = global_calendar(comm, owned.owned);
  layout.frequency = infer_frequency(layout.time);
  layout.has_adj_close = comm::allreduce<int32_t>(comm, parsed.has_adj ? 1 : 0, comm::ReduceOp::max) != 0;
  layout.chunk_tickers = opt.chunk_tickers;
  layout.chunk_bars = opt.chunk_bars;
  log_rejections(parsed.rejections);
  run_agreed(comm, [&] {
    TS_REQUIRE_INPUT(!layout.tickers.empty(), "ingest: no valid rows in {} input file(s)", files.size());
  });
  for (const auto& r : parsed.rejections) ++rep.rejected[static_cast<size_t>(r.reason)];
  std::vector<int64_t> counts(rep.rejected.begin(), rep.rejected.end());
  counts.push_back(parsed.rows_read);
  int64_t stored = 0;
  for (const auto& t : owned.owned) stored += static_cast<int64_t>(t.bars.size());
  counts.push_back(stored);
  comm::allreduce_inplace(comm, counts, comm::ReduceOp::sum);
  std::copy(counts.begin(), counts.begin() + kRejectReasonCount, rep.rejected.begin());
  rep.rows_read = counts[kRejectReasonCount];
  rep.rows_stored = counts[kRejectReasonCount + 1];
  rep.tickers = static_cast<int64_t>(layout.tickers.size());
  rep.bars = static_cast<int64_t>(layout.time.size());
  rep.frequency = layout.frequency;
  const double t2 = monotonic_seconds();
  write_store(comm, opt, layout, owned, rep, files);
  const double t3 = monotonic_seconds();
  rep.parse_s = comm::allreduce(comm, t1 - t0, comm::ReduceOp::max);
  rep.exchange_s = comm::allreduce(comm, t2 - t1, comm::ReduceOp::max);
  rep.write_s = comm::allreduce(comm, t3 - t2, comm::ReduceOp::max);
  rep.total_s = comm::allreduce(comm, t3 - t0, comm::ReduceOp::max);
  return rep;
}

}  // namespace tickstream
