// The PostgreSQL prediction sink: the whole run in one transaction on rank 0 (COPY + upsert),
// retried on a lost connection; docs/operations.md, "PostgreSQL sink".
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "comm/agreement.hpp"
#include "comm/collectives.hpp"
#include "core/error.hpp"
#include "core/stopwatch.hpp"
#include "core/time.hpp"
#include "predict/pg_connection.hpp"
#include "predict/prediction.hpp"
#include "runtime/fault.hpp"

namespace tickstream {
namespace {

using pg::Connection;
using pg::Target;
using pg::TransientError;

constexpr int kMaxAttempts = 5;          // the first try and 4 retries
constexpr double kFirstDelaySeconds = 1;  // then 2, 4, 8

std::string quoted(const std::string& name) { return "\"" + name + "\""; }

// The documented schema (docs/operations.md, "PostgreSQL sink"), created when absent.
std::string create_tables_sql(const std::string& table) {
  return "CREATE TABLE IF NOT EXISTS " + quoted(table) +
         " (model_id text NOT NULL, ticker text NOT NULL, asof timestamptz NOT NULL,"
         " pred_return real, prob_up real, confidence real, \"rank\" integer,"
         " written_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (model_id, ticker, asof));"
         " CREATE TABLE IF NOT EXISTS " + quoted(table + "_skipped") +
         " (model_id text NOT NULL, ticker text NOT NULL, asof timestamptz NOT NULL,"
         " reason text, written_at timestamptz NOT NULL DEFAULT now(),"
         " PRIMARY KEY (model_id, ticker, asof))";
}

// A field of COPY's text format: backslash, tab, newline and carriage return escaped.
void append_text(std::string& out, const std::string& s) {
  for (char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
}

std::string real_text(float v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return fmt::format("{}", v);
}

// The run's rows as COPY text, one line per row: predictions and skipped tickers.
struct CopyText {
  std::string predictions;
  std::string skipped;
};

CopyText copy_text(const PredictionSet& mine, const std::string& model_id) {
  CopyText out;
  for (const Prediction& p : mine.rows) {
    append_text(out.predictions, p.model_id);
    out.predictions += '\t';
    append_text(out.predictions, p.ticker);
    out.predictions += fmt::format("\t{}\t{}\t{}\t{}\t{}\n", format_timestamp(p.asof, false),
                                   real_text(p.pred_return), real_text(p.prob_up),
                                   real_text(p.confidence), p.rank);
  }
  for (const Skipped& s : mine.skipped) {
    append_text(out.skipped, model_id);
    out.skipped += '\t';
    append_text(out.skipped, s.ticker);
    out.skipped += '\t' + format_timestamp(s.asof, false) + '\t';
    append_text(out.skipped, s.reason);
    out.skipped += '\n';
  }
  return out;
}

// Collective: every rank's text on `root`, in rank order (empty elsewhere).
CopyText gather_text(comm::Communicator& comm, const CopyText& mine, int root) {
  const auto gather = [&](const std::string& s) {
    const std::vector<char> all = comm::gatherv(comm, std::vector<char>(s.begin(), s.end()), root);
    return std::string(all.begin(), all.end());
  };
  CopyText out;
  out.predictions = gather(mine.predictions);
  out.skipped = gather(mine.skipped);
  return out;
}

// Collective: the model id of the lowest rank holding a prediction (skipped rows carry none);
// empty when no rank holds one.
std::string agreed_model_id(comm::Communicator& comm, const PredictionSet& mine) {
  const int n = comm.size();
  const int holder = comm::allreduce<int32_t>(comm, mine.rows.empty() ? n : comm.rank(), comm::ReduceOp::min);
  if (holder == n) return {};
  return comm::broadcast_string(comm, mine.rows.empty() ? std::string() : mine.rows[0].model_id,
                               holder);
}

// The run into the tables, inside the open transaction: COPY into temp tables, then upsert; a
// key moves between the two tables when a re-run scores a ticker it skipped before.
void stage(Connection& conn, const std::string& table, const CopyText& run) {
  const std::string t = quoted(table);
  const std::string s = quoted(table + "_skipped");
  conn.exec("CREATE TEMP TABLE ts_stage_pred (model_id text, ticker text, asof timestamptz,"
            " pred_return real, prob_up real, confidence real, \"rank\" integer) ON COMMIT DROP;"
            " CREATE TEMP TABLE ts_stage_skip (model_id text, ticker text, asof timestamptz,"
            " reason text) ON COMMIT DROP", "creating the staging tables");
  if (!run.predictions.empty())
    conn.copy_in("COPY ts_stage_pred FROM STDIN", run.predictions, "COPY of predictions");
  if (!run.skipped.empty())
    conn.copy_in("COPY ts_stage_skip FROM STDIN", run.skipped, "COPY of skipped tickers");
  conn.exec("INSERT INTO " + t + " (model_id, ticker, asof, pred_return, prob_up, confidence,"
            " \"rank\") SELECT * FROM ts_stage_pred ON CONFLICT (model_id, ticker, asof) DO UPDATE"
            " SET pred_return = EXCLUDED.pred_return, prob_up = EXCLUDED.prob_up,"
            " confidence = EXCLUDED.confidence, \"rank\" = EXCLUDED.\"rank\", written_at = now();"
            " INSERT INTO " + s + " (model_id, ticker, asof, reason) SELECT * FROM ts_stage_skip"
            " ON CONFLICT (model_id, ticker, asof) DO UPDATE SET reason = EXCLUDED.reason,"
            " written_at = now();"
            " DELETE FROM " + s + " k USING ts_stage_pred p WHERE (k.model_id, k.ticker, k.asof)"
            " = (p.model_id, p.ticker, p.asof);"
            " DELETE FROM " + t + " k USING ts_stage_skip p WHERE (k.model_id, k.ticker, k.asof)"
            " = (p.model_id, p.ticker, p.asof)", "upsert into " + table);
}

// One attempt: a new connection, the tables created when absent (committed on their own), then
// the whole run in one transaction. Any failure closes the connection, which rolls back.
void write_once(const Target& target, const CopyText& run) {
  Connection conn(target);
  conn.exec(create_tables_sql(target.table), "creating the tables");
  conn.exec("BEGIN", "BEGIN");
  stage(conn, target.table, run);
  maybe_inject_fault("pg_commit", 0);
  conn.exec("COMMIT", "COMMIT");
}

// Runs `attempt` until it succeeds, retrying a TransientError with exponential backoff (1, 2, 4,
// 8 s) while attempts (kMaxAttempts) and the time budget (target.retry_s) last; then InputError
// with the last reason. Retrying is safe: the write is one idempotent upsert transaction.
void write_with_retries(const Target& target, const std::function<void()>& attempt) {
  const auto t0 = std::chrono::steady_clock::now();
  double delay = kFirstDelaySeconds;
  for (int n = 1;; ++n) {
    try {
      attempt();
      if (n > 1) spdlog::info("--out {}: written on attempt {} after {:.1f} s", target.shown, n, seconds_since(t0));
      return;
    } catch (const TransientError& e) {
      const double elapsed = seconds_since(t0);
      if (n == kMaxAttempts || elapsed + delay > target.retry_s)
        TS_INPUT_ERROR("--out {}: gave up after {} attempt{} in {:.1f} s (retry_s={}): {}", target.shown, n,
                       n == 1 ? "" : "s", elapsed, target.retry_s, e.what());
      spdlog::warn("--out {}: attempt {} of {} failed: {}; retrying the whole transaction in {} s",
                   target.shown, n, kMaxAttempts, e.what(), delay);
      std::this_thread::sleep_for(std::chrono::duration<double>(delay));
      delay *= 2;
    }
  }
}

class PostgresSink : public PredictionSink {
 public:
  explicit PostgresSink(Target target) : target_(std::move(target)) {}

  // Every rank formats its share; rank 0 gathers them and writes the whole run in one
  // transaction (with retries); every rank ends with rank 0's outcome.
  void write(comm::Communicator& comm, const PredictionSet& mine) override {
    constexpr int kRoot = 0;
    const std::string model_id = agreed_model_id(comm, mine);
    CopyText text;
    run_agreed(comm, [&] {
      text = copy_text(mine, model_id);
      maybe_inject_fault("pg_rows", comm.rank());
    });
    const CopyText run = gather_text(comm, text, kRoot);
    run_agreed(comm, [&] {
      if (comm.rank() == kRoot) write_with_retries(target_, [&] { write_once(target_, run); });
    });
  }

  std::string describe() const override {
    return fmt::format("PostgreSQL {} (table {})", target_.shown, target_.table);
  }

 private:
  Target target_;
};

}  // namespace

std::unique_ptr<PredictionSink> make_postgres_sink(const std::string& uri) {
  return std::make_unique<PostgresSink>(pg::parse_target(uri));
}

}  // namespace tickstream
