// The PostgreSQL prediction sink: one connection and one transaction per rank, COPY + upsert.
#include <libpq-fe.h>

#include <cctype>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "comm/collectives.hpp"
#include "core/error.hpp"
#include "core/time.hpp"
#include "predict/prediction.hpp"
#include "comm/agreement.hpp"

namespace tickstream {
namespace {

constexpr const char* kDefaultTable = "tickstream_predictions";
constexpr size_t kCopyChunkRows = 10000;

// The URI as given, with any password replaced by "***" (user:PASS@ and password=PASS).
std::string mask_password(const std::string& uri) {
  std::string out = uri;
  const size_t scheme = out.find("://");
  const size_t at = out.find('@', scheme == std::string::npos ? 0 : scheme + 3);
  if (scheme != std::string::npos && at != std::string::npos) {
    const size_t colon = out.find(':', scheme + 3);
    if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  for (size_t pos = out.find("password="); pos != std::string::npos;
       pos = out.find("password=", pos + 1)) {
    const size_t begin = pos + 9;
    const size_t end = out.find('&', begin);
    out.replace(begin, (end == std::string::npos ? out.size() : end) - begin, "***");
  }
  return out;
}

bool valid_table_name(const std::string& name) {
  if (name.empty() || name.size() > 50 || std::isdigit(static_cast<unsigned char>(name[0])))
    return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

// The parts of --out: libpq's URI (without our `table` parameter, with a connect timeout unless
// one is given) and the table name.
struct Target {
  std::string conninfo;
  std::string table = kDefaultTable;
  std::string shown;  // the URI with the password masked, for messages
};

Target parse_target(const std::string& uri) {
  Target t;
  t.shown = mask_password(uri);
  TS_REQUIRE_INPUT(uri.rfind("postgresql://", 0) == 0 || uri.rfind("postgres://", 0) == 0,
                   "--out {}: not a PostgreSQL URI (expected postgresql://[user@]host[:port]/db)",
                   t.shown);
  const size_t q = uri.find('?');
  std::vector<std::string> params;
  bool has_timeout = false;
  if (q != std::string::npos) {
    size_t begin = q + 1;
    while (begin <= uri.size()) {
      size_t end = uri.find('&', begin);
      if (end == std::string::npos) end = uri.size();
      const std::string param = uri.substr(begin, end - begin);
      if (param.rfind("table=", 0) == 0) {
        t.table = param.substr(6);
        TS_REQUIRE_INPUT(valid_table_name(t.table),
                         "--out {}: table '{}' is not a plain SQL name (letters, digits, _; at most "
                         "50 characters; not starting with a digit)", t.shown, t.table);
      } else if (!param.empty()) {
        has_timeout = has_timeout || param.rfind("connect_timeout=", 0) == 0;
        params.push_back(param);
      }
      begin = end + 1;
    }
  }
  if (!has_timeout) params.push_back("connect_timeout=10");
  t.conninfo = uri.substr(0, q);
  for (size_t i = 0; i < params.size(); ++i) t.conninfo += (i == 0 ? "?" : "&") + params[i];
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(t.conninfo.c_str(), &err);
  const std::string why = err ? err : "";
  PQfreemem(err);
  PQconninfoFree(opts);
  TS_REQUIRE_INPUT(opts != nullptr, "--out {}: bad connection string: {}", t.shown, why);
  return t;
}

std::string trimmed(const char* s) {
  std::string out = s ? s : "";
  while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back()))) out.pop_back();
  return out;
}

// One libpq connection; closing it without COMMIT rolls back.
class Connection {
 public:
  Connection(const Target& target) : target_(target) {
    conn_ = PQconnectdb(target.conninfo.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) {
      const std::string why = trimmed(PQerrorMessage(conn_));
      PQfinish(conn_);
      conn_ = nullptr;
      TS_INPUT_ERROR("--out {}: cannot connect: {}", target.shown, why);
    }
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
  }
  ~Connection() { PQfinish(conn_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one command; InputError naming the target and `what` when the server refuses it.
  void exec(const std::string& sql, const std::string& what) {
    PGresult* res = PQexec(conn_, sql.c_str());
    const ExecStatusType status = PQresultStatus(res);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      PQclear(res);
      return;
    }
    fail(res, what);
  }

  // COPY `sql` FROM STDIN with `rows` text rows, sent in chunks of kCopyChunkRows.
  void copy_in(const std::string& sql, const std::vector<std::string>& rows,
               const std::string& what) {
    PGresult* res = PQexec(conn_, sql.c_str());
    if (PQresultStatus(res) != PGRES_COPY_IN) fail(res, what);
    PQclear(res);
    std::string chunk;
    for (size_t i = 0; i < rows.size(); ++i) {
      chunk += rows[i];
      if ((i + 1) % kCopyChunkRows == 0 || i + 1 == rows.size()) {
        if (PQputCopyData(conn_, chunk.data(), static_cast<int>(chunk.size())) != 1) break;
        chunk.clear();
      }
    }
    if (PQputCopyEnd(conn_, nullptr) != 1) fail(nullptr, what);
    res = PQgetResult(conn_);
    const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok) fail(res, what);
    PQclear(res);
    while ((res = PQgetResult(conn_)) != nullptr) PQclear(res);
  }

  void rollback() noexcept {
    PGresult* res = PQexec(conn_, "ROLLBACK");
    PQclear(res);
  }

 private:
  [[noreturn]] void fail(PGresult* res, const std::string& what) {
    const std::string why = trimmed(res ? PQresultErrorMessage(res) : PQerrorMessage(conn_));
    const std::string state = res && PQresultErrorField(res, PG_DIAG_SQLSTATE)
                                  ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : "";
    PQclear(res);
    while ((res = PQgetResult(conn_)) != nullptr) PQclear(res);
    // Data and integrity errors (classes 22, 23) mean tickstream sent bad rows: internal.
    if (state.rfind("22", 0) == 0 || state.rfind("23", 0) == 0)
      TS_INTERNAL_ERROR("--out {}: {} failed: {}", target_.shown, what, why);
    TS_INPUT_ERROR("--out {}: {} failed: {}", target_.shown, what, why.empty() ? "(no message)" : why);
  }

  const Target& target_;
  PGconn* conn_ = nullptr;
};

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

std::vector<std::string> prediction_rows(const std::vector<Prediction>& rows) {
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (const Prediction& p : rows) {
    std::string line;
    append_text(line, p.model_id);
    line += '\t';
    append_text(line, p.ticker);
    line += fmt::format("\t{}\t{}\t{}\t{}\t{}\n", format_timestamp(p.asof, false),
                        real_text(p.pred_return), real_text(p.prob_up), real_text(p.confidence),
                        p.rank);
    out.push_back(std::move(line));
  }
  return out;
}

std::vector<std::string> skipped_rows(const std::vector<Skipped>& rows, const std::string& model_id) {
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (const Skipped& s : rows) {
    std::string line;
    append_text(line, model_id);
    line += '\t';
    append_text(line, s.ticker);
    line += '\t' + format_timestamp(s.asof, false) + '\t';
    append_text(line, s.reason);
    line += '\n';
    out.push_back(std::move(line));
  }
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

// This rank's share into the tables, inside the open transaction: COPY into temp tables, then
// upsert; a key moves between the two tables when a re-run scores a ticker it skipped before.
void stage(Connection& conn, const std::string& table, const PredictionSet& mine,
           const std::string& model_id) {
  const std::string t = quoted(table);
  const std::string s = quoted(table + "_skipped");
  conn.exec("CREATE TEMP TABLE ts_stage_pred (model_id text, ticker text, asof timestamptz,"
            " pred_return real, prob_up real, confidence real, \"rank\" integer) ON COMMIT DROP;"
            " CREATE TEMP TABLE ts_stage_skip (model_id text, ticker text, asof timestamptz,"
            " reason text) ON COMMIT DROP", "creating the staging tables");
  if (!mine.rows.empty())
    conn.copy_in("COPY ts_stage_pred FROM STDIN", prediction_rows(mine.rows), "COPY of predictions");
  if (!mine.skipped.empty())
    conn.copy_in("COPY ts_stage_skip FROM STDIN", skipped_rows(mine.skipped, model_id),
                 "COPY of skipped tickers");
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

class PostgresSink : public PredictionSink {
 public:
  explicit PostgresSink(Target target) : target_(std::move(target)) {}

  // Rank 0 creates the tables (committed on their own) before the other ranks connect; every
  // rank then stages its share in one transaction, and all commit only when all staged.
  void write(comm::Communicator& comm, const PredictionSet& mine) override {
    const std::string model_id = agreed_model_id(comm, mine);
    const bool root = comm.rank() == 0;
    std::unique_ptr<Connection> conn;
    run_agreed(comm, [&] {
      if (!root) return;
      conn = std::make_unique<Connection>(target_);
      conn->exec(create_tables_sql(target_.table), "creating the tables");
    });
    run_agreed(comm, [&] {
      if (!root) conn = std::make_unique<Connection>(target_);
    });
    try {
      run_agreed(comm, [&] {
        conn->exec("BEGIN", "BEGIN");
        stage(*conn, target_.table, mine, model_id);
      });
    } catch (...) {
      conn->rollback();
      throw;
    }
    run_agreed(comm, [&] { conn->exec("COMMIT", "COMMIT"); });
  }

  std::string describe() const override {
    return fmt::format("PostgreSQL {} (table {})", target_.shown, target_.table);
  }

 private:
  Target target_;
};

}  // namespace

std::unique_ptr<PredictionSink> make_postgres_sink(const std::string& uri) {
  return std::make_unique<PostgresSink>(parse_target(uri));
}

}  // namespace tickstream
