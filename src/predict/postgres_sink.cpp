// The PostgreSQL prediction sink: the whole run in one transaction on rank 0 (COPY + upsert),
// retried on a lost connection; docs/operations.md, "PostgreSQL sink".
#include <libpq-fe.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <charconv>
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
#include "predict/prediction.hpp"
#include "runtime/fault.hpp"

namespace tickstream {
namespace {

constexpr const char* kDefaultTable = "tickstream_predictions";
constexpr size_t kCopyChunkBytes = size_t{1} << 20;
constexpr int kMaxAttempts = 5;          // the first try and 4 retries
constexpr double kFirstDelaySeconds = 1;  // then 2, 4, 8
constexpr double kDefaultRetrySeconds = 30;
constexpr double kMaxRetrySeconds = 120;
constexpr size_t kMinSecretChars = 4;  // shorter passwords are not searched for in messages

// %XX sequences decoded (as libpq decodes URI parts); a malformed one is kept as is.
std::string percent_decoded(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    int byte = 0;
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      std::from_chars(s.data() + i + 1, s.data() + i + 3, byte, 16);
      out += static_cast<char>(byte);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Where the URI holds a password: the user-info part (from the first ':' after the scheme to the
// last '@' before the query) and each password= parameter, as [begin, end) offsets.
std::vector<std::pair<size_t, size_t>> password_spans(const std::string& uri) {
  std::vector<std::pair<size_t, size_t>> spans;
  const size_t scheme = uri.find("://");
  if (scheme == std::string::npos) return spans;
  const size_t query = std::min(uri.find('?'), uri.size());
  const size_t at = uri.rfind('@', query == 0 ? 0 : query - 1);
  const size_t colon = uri.find(':', scheme + 3);
  if (at != std::string::npos && at > scheme + 3 && colon < at) spans.emplace_back(colon + 1, at);
  for (size_t pos = uri.find("password=", query); pos != std::string::npos;
       pos = uri.find("password=", pos + 1)) {
    const size_t begin = pos + 9;
    spans.emplace_back(begin, std::min(uri.find('&', begin), uri.size()));
  }
  return spans;
}

// The URI as given, with any password replaced by "***" (user:PASS@ and password=PASS).
std::string mask_password(const std::string& uri) {
  std::string out = uri;
  auto spans = password_spans(uri);
  std::sort(spans.rbegin(), spans.rend());  // from the back: earlier offsets stay valid
  for (const auto& [begin, end] : spans) out.replace(begin, end - begin, "***");
  return out;
}

bool valid_table_name(const std::string& name) {
  if (name.empty() || name.size() > 50 || std::isdigit(static_cast<unsigned char>(name[0])))
    return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

// libpq's message on one line (its multi-line hints joined), trailing space removed.
std::string one_line(const char* s) {
  std::string out;
  for (const char* p = s ? s : ""; *p; ++p) {
    const bool space = std::isspace(static_cast<unsigned char>(*p));
    if (!space) out += *p;
    else if (!out.empty() && out.back() != ' ') out += ' ';
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// The parts of --out: libpq's URI (without our own parameters, with a connect timeout unless one
// is given), the table name, the retry budget, and what to keep out of every message.
struct Target {
  std::string conninfo;
  std::string table = kDefaultTable;
  double retry_s = kDefaultRetrySeconds;
  std::string shown;                 // the URI with the password masked, for messages
  std::vector<std::string> secrets;  // the password as written and decoded

  // `message` with every occurrence of the password replaced by "***".
  std::string redact(std::string message) const {
    for (const std::string& secret : secrets)
      for (size_t pos = message.find(secret); pos != std::string::npos; pos = message.find(secret, pos))
        message.replace(pos, secret.size(), "***");
    return message;
  }
};

std::vector<std::string> secrets_of(const std::string& uri) {
  std::vector<std::string> out;
  for (const auto& [begin, end] : password_spans(uri)) {
    const std::string raw = uri.substr(begin, end - begin);
    for (const std::string& s : {raw, percent_decoded(raw)})
      if (s.size() >= kMinSecretChars) out.push_back(s);
  }
  return out;
}

// At most kMaxRetrySeconds: the other ranks wait for rank 0's write in a collective, which
// aborts the job after the communicator's timeout (300 s).
double parse_retry_seconds(const std::string& value, const std::string& shown) {
  double v = -1;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  TS_REQUIRE_INPUT(ec == std::errc() && end == value.data() + value.size() && v >= 0 && v <= kMaxRetrySeconds,
                   "--out {}: retry_s '{}' is not a number of seconds in [0, {}]", shown, value, kMaxRetrySeconds);
  return v;
}

// The value libpq parsed for `keyword` (empty when not given).
std::string conninfo_value(const PQconninfoOption* opts, const char* keyword) {
  for (const PQconninfoOption* o = opts; o && o->keyword; ++o)
    if (std::string(o->keyword) == keyword) return o->val ? o->val : "";
  return {};
}

// Checks the conninfo with libpq's parser: it parses and names a database (libpq would otherwise
// connect to the database named like the user). Adds the parsed password to the secrets.
void check_conninfo(Target& t) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(t.conninfo.c_str(), &err);
  const std::string why = t.redact(one_line(err));
  PQfreemem(err);
  TS_REQUIRE_INPUT(opts != nullptr, "--out {}: bad connection string: {}", t.shown, why);
  const std::string dbname = conninfo_value(opts, "dbname");
  const std::string password = conninfo_value(opts, "password");
  PQconninfoFree(opts);
  if (password.size() >= kMinSecretChars) t.secrets.push_back(password);
  TS_REQUIRE_INPUT(!dbname.empty(), "--out {}: no database name (expected "
                   "postgresql://[user[:password]@]host[:port]/DBNAME)", t.shown);
}

Target parse_target(const std::string& uri) {
  Target t;
  t.shown = mask_password(uri);
  t.secrets = secrets_of(uri);
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
      } else if (param.rfind("retry_s=", 0) == 0) {
        t.retry_s = parse_retry_seconds(param.substr(8), t.shown);
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
  check_conninfo(t);
  return t;
}

// A failure that a new connection may not have: the connection was lost or refused, the server
// is starting up or shutting down, or the transaction lost a serialization conflict. The whole
// transaction is retried (see write_with_retries).
class TransientError : public InputError {
 public:
  using InputError::InputError;
};

// SQLSTATEs worth a new transaction: connection exceptions (08), admin/crash shutdown and
// cannot-connect-now (57P01-57P03), serialization failure and deadlock (40001, 40P01).
bool transient_state(const std::string& state) {
  return state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03" ||
         state == "40001" || state == "40P01";
}

// One libpq connection; closing it without COMMIT rolls back (the server aborts the open
// transaction of a closed connection).
class Connection {
 public:
  explicit Connection(const Target& target) : target_(target) {
    conn_ = PQconnectdb(target.conninfo.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) {
      const std::string why = target.redact(one_line(PQerrorMessage(conn_)));
      PQfinish(conn_);
      conn_ = nullptr;
      // A server that answers a ping accepts connections: the refusal is ours (password, user,
      // database, permissions) and a retry would be refused the same way.
      const PGPing ping = PQping(target.conninfo.c_str());
      if (ping == PQPING_REJECT || ping == PQPING_NO_RESPONSE)
        throw TransientError(fmt::format("cannot connect: {}", why), __FILE__, __LINE__);
      TS_INPUT_ERROR("--out {}: cannot connect: {}", target.shown, why);
    }
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
  }
  ~Connection() { PQfinish(conn_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one command; an error naming the target and `what` when the server refuses it.
  void exec(const std::string& sql, const std::string& what) {
    PGresult* res = PQexec(conn_, sql.c_str());
    const ExecStatusType status = PQresultStatus(res);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      PQclear(res);
      return;
    }
    fail(res, what);
  }

  // COPY `sql` FROM STDIN with `data` (COPY text rows), sent in chunks of kCopyChunkBytes.
  void copy_in(const std::string& sql, const std::string& data, const std::string& what) {
    PGresult* res = PQexec(conn_, sql.c_str());
    if (PQresultStatus(res) != PGRES_COPY_IN) fail(res, what);
    PQclear(res);
    for (size_t at = 0; at < data.size(); at += kCopyChunkBytes) {
      const size_t n = std::min(kCopyChunkBytes, data.size() - at);
      if (PQputCopyData(conn_, data.data() + at, static_cast<int>(n)) != 1) fail(nullptr, what);
    }
    if (PQputCopyEnd(conn_, nullptr) != 1) fail(nullptr, what);
    res = PQgetResult(conn_);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) fail(res, what);
    PQclear(res);
    while ((res = PQgetResult(conn_)) != nullptr) PQclear(res);
  }

 private:
  // Data and integrity errors (classes 22, 23) mean tickstream sent bad rows: internal. A lost
  // connection or a transient SQLSTATE: TransientError. Anything else: the server refused.
  [[noreturn]] void fail(PGresult* res, const std::string& what) {
    std::string why = target_.redact(one_line(res ? PQresultErrorMessage(res) : PQerrorMessage(conn_)));
    if (why.empty()) why = target_.redact(one_line(PQerrorMessage(conn_)));
    if (why.empty()) why = "(no message)";
    const char* field = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    const std::string state = field ? field : "";
    PQclear(res);
    while ((res = PQgetResult(conn_)) != nullptr) PQclear(res);
    if (PQstatus(conn_) == CONNECTION_BAD || transient_state(state))
      throw TransientError(fmt::format("{} failed: {}", what, why), __FILE__, __LINE__);
    if (state.rfind("22", 0) == 0 || state.rfind("23", 0) == 0)
      TS_INTERNAL_ERROR("--out {}: {} failed: {}", target_.shown, what, why);
    TS_INPUT_ERROR("--out {}: {} failed: {}", target_.shown, what, why);
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
  return std::make_unique<PostgresSink>(parse_target(uri));
}

}  // namespace tickstream
