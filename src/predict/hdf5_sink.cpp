// The HDF5 prediction sink: one file written collectively, each rank's rows at its own offsets.
#include <hdf5.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "comm/collectives.hpp"
#include "core/error.hpp"
#include "core/time.hpp"
#include "predict/file_sink_plan.hpp"
#include "predict/prediction.hpp"
#include "comm/agreement.hpp"
#include "store/atomic_output.hpp"
#include "store/file_util.hpp"
#include "store/h5.hpp"

namespace tickstream {
namespace {

const std::vector<std::string> kExtensions{".h5", ".hdf5"};

// A 1-D dataset of plan.total rows; this rank writes its rows of each as-of at the plan's offsets
// (one collective write per as-of: every rank makes the same calls, possibly with 0 rows).
void write_column(const h5::File& f, hid_t loc, const std::string& name, hid_t file_type,
                  hid_t mem_type, size_t row_bytes, const void* data, const RowPlan& plan) {
  // Chunked: with a contiguous layout, HDF5 1.10's collective write from a rank with an empty
  // selection clobbers the first row (seen at 2-3 ranks); chunked is the path the store uses.
  const auto total = static_cast<hsize_t>(plan.total);
  const std::vector<hsize_t> chunk = total == 0 ? std::vector<hsize_t>{}
                                                : std::vector<hsize_t>{std::min<hsize_t>(total, 65536)};
  h5::Handle ds = h5::create_dataset(loc, name, {file_type, {total}, chunk, false});
  const auto* bytes = static_cast<const char*>(data);
  for (size_t d = 0; d < plan.asofs.size(); ++d) {
    const int64_t n = plan.count(plan.rank, d);
    static const char empty = 0;  // HDF5 wants a buffer even for an empty selection
    const char* p = n > 0 ? bytes + static_cast<size_t>(plan.local_begin(d)) * row_bytes : &empty;
    h5::write_rows(f, ds.id(), mem_type, static_cast<hsize_t>(plan.file_offset(d)),
                   static_cast<hsize_t>(n), p);
  }
}

template <typename Row, typename T, typename Get>
void write_numbers(const h5::File& f, hid_t loc, const std::string& name, hid_t file_type,
                   hid_t mem_type, const std::vector<Row>& rows, const Get& get, const RowPlan& plan) {
  std::vector<T> values;
  values.reserve(rows.size());
  for (const Row& r : rows) values.push_back(get(r));
  write_column(f, loc, name, file_type, mem_type, sizeof(T), values.data(), plan);
}

// Fixed-length NULLPAD strings (h5py reads bytes), the width agreed over all ranks.
template <typename Row, typename Get>
void write_text(const h5::File& f, hid_t loc, const std::string& name, const std::vector<Row>& rows,
                const Get& get, comm::Communicator& comm, const RowPlan& plan) {
  std::vector<std::string> values;
  int64_t width = 1;
  for (const Row& r : rows) {
    values.push_back(get(r));
    width = std::max(width, static_cast<int64_t>(values.back().size()));
  }
  width = comm::allreduce<int64_t>(comm, width, comm::ReduceOp::max);
  h5::Handle type(TS_CHECK_H5(H5Tcopy(H5T_C_S1)), H5Tclose);
  TS_CHECK_H5(H5Tset_size(type.id(), static_cast<size_t>(width)));
  TS_CHECK_H5(H5Tset_strpad(type.id(), H5T_STR_NULLPAD));
  std::vector<char> packed(values.size() * static_cast<size_t>(width), '\0');
  for (size_t i = 0; i < values.size(); ++i)
    std::memcpy(packed.data() + i * static_cast<size_t>(width), values[i].data(), values[i].size());
  write_column(f, loc, name, type.id(), type.id(), static_cast<size_t>(width), packed.data(), plan);
}

std::vector<int64_t> asofs_of(const std::vector<Prediction>& rows) {
  std::vector<int64_t> out;
  for (const auto& r : rows) out.push_back(r.asof);
  return out;
}

std::vector<int64_t> asofs_of(const std::vector<Skipped>& rows) {
  std::vector<int64_t> out;
  for (const auto& r : rows) out.push_back(r.asof);
  return out;
}

// The one model id of every row of every rank ("" when there are no rows); agreed InternalError
// when rows disagree.
std::string agreed_model_id(comm::Communicator& comm, const std::vector<Prediction>& rows) {
  std::vector<std::string> mine;
  if (!rows.empty()) mine.push_back(rows.front().model_id);
  run_agreed(comm, [&] {
    for (const auto& r : rows)
      TS_CHECK(r.model_id == rows.front().model_id, "predictions of models {} and {} in one set",
               rows.front().model_id, r.model_id);
  });
  const std::vector<std::string> all = comm::allgather_strings(comm, mine);
  for (const auto& id : all)
    TS_CHECK(id == all.front(), "predictions of models {} and {} in one set", all.front(), id);
  return all.empty() ? std::string() : all.front();
}

void write_predictions(const h5::File& f, comm::Communicator& comm, const std::vector<Prediction>& rows) {
  const RowPlan plan = plan_rows(comm, asofs_of(rows));
  h5::Handle g = h5::create_group(f.id(), "predictions");
  using P = Prediction;
  write_text(f, g.id(), "ticker", rows, [](const P& p) { return p.ticker; }, comm, plan);
  write_numbers<P, int64_t>(f, g.id(), "asof", H5T_STD_I64LE, H5T_NATIVE_INT64, rows,
                            [](const P& p) { return p.asof; }, plan);
  write_text(f, g.id(), "asof_iso", rows, [](const P& p) { return format_timestamp(p.asof); }, comm, plan);
  write_numbers<P, float>(f, g.id(), "pred_return", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, rows,
                          [](const P& p) { return p.pred_return; }, plan);
  write_numbers<P, float>(f, g.id(), "prob_up", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, rows,
                          [](const P& p) { return p.prob_up; }, plan);
  write_numbers<P, float>(f, g.id(), "confidence", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, rows,
                          [](const P& p) { return p.confidence; }, plan);
  write_numbers<P, int64_t>(f, g.id(), "rank", H5T_STD_I64LE, H5T_NATIVE_INT64, rows,
                            [](const P& p) { return p.rank; }, plan);
}

void write_skipped(const h5::File& f, comm::Communicator& comm, const std::vector<Skipped>& rows) {
  const RowPlan plan = plan_rows(comm, asofs_of(rows));
  h5::Handle g = h5::create_group(f.id(), "skipped");
  using S = Skipped;
  write_text(f, g.id(), "ticker", rows, [](const S& s) { return s.ticker; }, comm, plan);
  write_numbers<S, int64_t>(f, g.id(), "asof", H5T_STD_I64LE, H5T_NATIVE_INT64, rows,
                            [](const S& s) { return s.asof; }, plan);
  write_text(f, g.id(), "asof_iso", rows, [](const S& s) { return format_timestamp(s.asof); }, comm, plan);
  write_text(f, g.id(), "reason", rows, [](const S& s) { return s.reason; }, comm, plan);
}

class Hdf5Sink : public PredictionSink {
 public:
  explicit Hdf5Sink(std::string path) : path_(std::move(path)) { check_file_target(path_, kExtensions); }

  void write(comm::Communicator& comm, const PredictionSet& mine) override {
    run_agreed(comm, [&] { check_file_target(path_, kExtensions); });
    const std::string model_id = agreed_model_id(comm, mine.rows);
    AtomicOutput out(path_, comm);
    std::exception_ptr failure;
    try {
      out.write([&] {
        h5::File f = h5::File::create(out.temp_path(), &comm);
        h5::set_attr(f.id(), "format", std::string("tickstream.predictions"));
        h5::set_attr(f.id(), "version", int64_t{1});
        h5::set_attr(f.id(), "model_id", model_id);
        write_predictions(f, comm, mine.rows);
        write_skipped(f, comm, mine.skipped);
        f.close();
      });
    } catch (const OutOfSpaceError&) {
      failure = std::current_exception();  // names the output and the space left already
    } catch (const std::exception& e) {
      failure = std::make_exception_ptr(
          InputError(fmt::format("--out {}: cannot write the predictions file: {}", path_, e.what()),
                     __FILE__, __LINE__));
    }
    agree_on_failure(comm, failure);  // throws on every rank; `out` then removes the temp file
    out.commit();
  }

  std::string describe() const override { return fmt::format("HDF5 {}", path_); }

 private:
  std::string path_;
};

}  // namespace

std::unique_ptr<PredictionSink> make_hdf5_sink(const std::string& path) {
  return std::make_unique<Hdf5Sink>(path);
}

}  // namespace tickstream
