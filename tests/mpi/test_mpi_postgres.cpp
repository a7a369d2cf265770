// The PostgreSQL sink against a real server (TICKSTREAM_PG_URL, started by tests/pg/server.sh).
#include <libpq-fe.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <utility>

#include "comm/collectives.hpp"
#include "core/error.hpp"
#include "mpi/mpi_test.hpp"
#include "predict/prediction.hpp"

namespace tickstream {
namespace {

using MpiPostgres = testing::MpiTest;

constexpr int kTickers = 20;
constexpr int kDates = 3;
constexpr int64_t kFirstAsof = 1704153600;  // 2024-01-02
const char* kModel = "model-abc123";

std::string pg_url() {
  const char* url = std::getenv("TICKSTREAM_PG_URL");
  return url ? url : "";
}

std::string ticker(int i) { return fmt::format("T{:02}", i); }
bool is_skipped(int i) { return i % 7 == 3; }
float pred_of(int i, int d, float scale) { return scale * 0.001f * static_cast<float>((i + 1) * (d + 1)); }

// Rank r's share: a consecutive ticker range, rows in (asof, ticker) order; every 7th ticker
// (from 3) is skipped. `scale` changes every pred_return.
PredictionSet share(int rank, int size, float scale) {
  PredictionSet set;
  const int begin = kTickers * rank / size, end = kTickers * (rank + 1) / size;
  for (int d = 0; d < kDates; ++d) {
    const int64_t asof = kFirstAsof + d * 86400 + 3600 * d;  // day 1 at midnight, then 01:00, 02:00
    for (int i = begin; i < end; ++i) {
      if (is_skipped(i)) {
        set.skipped.push_back({ticker(i), asof, "not enough history\t(\\test)"});
        continue;
      }
      const float p = pred_of(i, d, scale);
      set.rows.push_back({ticker(i), asof, p, 0.5f + p, 2 * p, kTickers - i, kModel});
    }
  }
  return set;
}

// A connection for checks on rank 0.
class Checker {
 public:
  Checker() : conn_(PQconnectdb(pg_url().c_str())) {
    EXPECT_EQ(PQstatus(conn_), CONNECTION_OK) << PQerrorMessage(conn_);
  }
  ~Checker() { PQfinish(conn_); }
  // The rows of a query, each row's fields joined by '|'.
  std::vector<std::string> rows(const std::string& sql) {
    PGresult* res = PQexec(conn_, sql.c_str());
    std::vector<std::string> out;
    EXPECT_EQ(PQresultStatus(res), PGRES_TUPLES_OK) << sql << ": " << PQresultErrorMessage(res);
    for (int r = 0; r < PQntuples(res); ++r) {
      std::string row;
      for (int c = 0; c < PQnfields(res); ++c) {
        if (c > 0) row += '|';
        row += PQgetvalue(res, r, c);
      }
      out.push_back(row);
    }
    PQclear(res);
    return out;
  }
  void exec(const std::string& sql) { PQclear(PQexec(conn_, sql.c_str())); }

 private:
  PGconn* conn_;
};

// A table name unique to this run (rank 0's pid and clock), the same on every rank.
std::string unique_table(comm::Communicator& comm) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const std::string mine = fmt::format("ts_test_{}_{}", getpid(),
      std::chrono::duration_cast<std::chrono::microseconds>(now).count() % 1000000000);
  return comm::broadcast_string(comm, mine, 0);
}

std::string with_table(const std::string& url, const std::string& table) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "table=" + table;
}

// Checks the table holds exactly the known set at `scale` (closed form), on rank 0.
void expect_contents(const std::string& table, float scale) {
  Checker db;
  const auto rows = db.rows("SELECT model_id, ticker, extract(epoch from asof)::bigint, pred_return,"
                            " prob_up, confidence, rank FROM " + table + " ORDER BY asof, ticker");
  std::vector<std::string> want;
  for (int d = 0; d < kDates; ++d)
    for (int i = 0; i < kTickers; ++i) {
      if (is_skipped(i)) continue;
      const float p = pred_of(i, d, scale);
      want.push_back(fmt::format("{}|{}|{}|{}|{}|{}|{}", kModel, ticker(i),
                                 kFirstAsof + d * 86400 + 3600 * d, p, 0.5f + p, 2 * p, kTickers - i));
    }
  EXPECT_EQ(rows, want);
  const auto skipped = db.rows("SELECT model_id, ticker, extract(epoch from asof)::bigint, reason FROM " +
                               table + "_skipped ORDER BY asof, ticker");
  std::vector<std::string> want_skipped;
  for (int d = 0; d < kDates; ++d)
    for (int i = 0; i < kTickers; ++i)
      if (is_skipped(i))
        want_skipped.push_back(fmt::format("{}|{}|{}|not enough history\t(\\test)", kModel, ticker(i),
                                           kFirstAsof + d * 86400 + 3600 * d));
  EXPECT_EQ(skipped, want_skipped);
}

TEST_F(MpiPostgres, WritesEveryRanksShareIdempotentlyAndReplaces) {
  if (pg_url().empty()) GTEST_SKIP() << "TICKSTREAM_PG_URL unset (tests/run.sh starts a server)";
  const std::string table = unique_table(comm());
  auto sink = make_postgres_sink(with_table(pg_url(), table));
  sink->write(comm(), share(rank(), size(), 1.0f));
  if (rank() == 0) expect_contents(table, 1.0f);
  comm().barrier();
  sink->write(comm(), share(rank(), size(), 1.0f));  // a re-run: no duplicates
  if (rank() == 0) expect_contents(table, 1.0f);
  comm().barrier();
  sink->write(comm(), share(rank(), size(), 3.0f));  // changed values replace the old ones
  if (rank() == 0) {
    expect_contents(table, 3.0f);
    Checker db;
    db.exec("DROP TABLE " + table + "; DROP TABLE " + table + "_skipped");
  }
}

void expect_input_error(const std::string& uri, const std::string& fragment) {
  try {
    make_postgres_sink(uri);
    ADD_FAILURE() << uri << " was accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.exit_code(), kExitInput);
    const std::string what = e.what();
    EXPECT_NE(what.find("--out"), std::string::npos) << what;
    EXPECT_NE(what.find(fragment), std::string::npos) << what;
    EXPECT_EQ(what.find("hunter2"), std::string::npos) << "password shown: " << what;
  }
}

TEST_F(MpiPostgres, BadUriIsAnInputError) {
  expect_input_error("mysql://u@localhost/db", "not a PostgreSQL URI");
  expect_input_error("localhost:5432", "not a PostgreSQL URI");
  expect_input_error("postgresql://u:hunter2@localhost/db?bogus=1", "bad connection string");
  expect_input_error("postgresql://u:hunter2@localhost/db?table=drop;table", "not a plain SQL name");
  expect_input_error("postgresql://u:hunter2@localhost/db?retry_s=soon", "retry_s 'soon'");
  // libpq quotes the bad token (here the password) in its message: it is masked there too.
  expect_input_error("postgresql://u:hunter2%zz@localhost/db", "bad connection string");
  expect_input_error("postgresql://u@localhost/db?password=hunter2%zz", "bad connection string");
  // No database name: libpq would connect to the user's database; refused instead.
  expect_input_error("postgresql://u:hunter2@localhost", "no database name");
  expect_input_error("postgresql://u:hunter2@localhost:5432/", "no database name");
}

// Runs a write expected to fail on every rank with `code`; returns the message and the seconds
// it took.
std::pair<std::string, double> failed_write(comm::Communicator& comm, PredictionSink& sink, int code) {
  const auto t0 = std::chrono::steady_clock::now();
  try {
    sink.write(comm, share(comm.rank(), comm.size(), 3.0f));
    ADD_FAILURE() << "the write succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), code) << e.what();
    return {e.what(), std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
  }
  return {};
}

TEST_F(MpiPostgres, UnreachableServerFailsEveryRankWithInputError) {
  // Port 1 on loopback: nothing listens there, the connection is refused at once (no retry).
  auto sink = make_postgres_sink("postgresql://postgres:hunter2@127.0.0.1:1/tickstream_test?retry_s=0");
  const auto [what, seconds] = failed_write(comm(), *sink, kExitInput);
  EXPECT_NE(what.find("cannot connect"), std::string::npos) << what;
  EXPECT_NE(what.find("gave up after 1 attempt "), std::string::npos) << what;
  EXPECT_NE(what.find("127.0.0.1:1"), std::string::npos) << what;
  EXPECT_EQ(what.find("hunter2"), std::string::npos) << "password shown: " << what;
}

TEST_F(MpiPostgres, UnreachableServerIsRetriedWithBackoffWithinTheBudget) {
  // Refused at once each time: tries at 0, 1 and 3 s; a fourth (after 4 more seconds) would
  // end past retry_s=4.
  auto sink = make_postgres_sink("postgresql://postgres@127.0.0.1:1/tickstream_test?retry_s=4");
  const auto [what, seconds] = failed_write(comm(), *sink, kExitInput);
  EXPECT_NE(what.find("gave up after 3 attempts"), std::string::npos) << what;
  EXPECT_GE(seconds, 3.0);
  EXPECT_LT(seconds, 4.0);
}

TEST_F(MpiPostgres, MissingDatabaseFailsFastWithTheServersReason) {
  if (pg_url().empty()) GTEST_SKIP() << "TICKSTREAM_PG_URL unset (tests/run.sh starts a server)";
  std::string url = pg_url();
  const size_t slash = url.find('/', url.find("://") + 3);
  url = url.substr(0, slash) + "/ts_no_such_database" +
        url.substr(std::min(url.find('?', slash), url.size()));
  auto sink = make_postgres_sink(url);
  const auto [what, seconds] = failed_write(comm(), *sink, kExitInput);
  EXPECT_NE(what.find("cannot connect"), std::string::npos) << what;
  EXPECT_NE(what.find("database \"ts_no_such_database\" does not exist"), std::string::npos) << what;
  EXPECT_LT(seconds, 1.0) << "retried an authentication/catalog failure";
}

// Sets TICKSTREAM_INJECT_FAULT on this rank for its lifetime.
class InjectedFault {
 public:
  explicit InjectedFault(const std::string& spec) { setenv("TICKSTREAM_INJECT_FAULT", spec.c_str(), 1); }
  ~InjectedFault() { unsetenv("TICKSTREAM_INJECT_FAULT"); }
  InjectedFault(const InjectedFault&) = delete;
  InjectedFault& operator=(const InjectedFault&) = delete;
};

TEST_F(MpiPostgres, AFailedWriteLeavesNoRowOfItsRun) {
  if (pg_url().empty()) GTEST_SKIP() << "TICKSTREAM_PG_URL unset (tests/run.sh starts a server)";
  const std::string table = unique_table(comm());
  auto sink = make_postgres_sink(with_table(pg_url(), table));
  sink->write(comm(), share(rank(), size(), 1.0f));
  // Rank 0 fails after staging and upserting the whole run, before COMMIT; the last rank fails
  // while preparing its share. Every rank ends with the error; the table keeps the first run.
  for (const std::string& spec : {std::string("pg_commit@0"), fmt::format("pg_rows@{}", size() - 1)}) {
    {
      InjectedFault fault(spec);
      const auto [what, seconds] = failed_write(comm(), *sink, kExitInternal);
      EXPECT_NE(what.find("injected fault"), std::string::npos) << spec << ": " << what;
    }
    if (rank() == 0) expect_contents(table, 1.0f);
    comm().barrier();
  }
  if (rank() == 0) Checker().exec("DROP TABLE " + table + "; DROP TABLE " + table + "_skipped");
}

TEST_F(MpiPostgres, ABackendKilledMidTransactionIsRetried) {
  if (pg_url().empty()) GTEST_SKIP() << "TICKSTREAM_PG_URL unset (tests/run.sh starts a server)";
  const std::string table = unique_table(comm());
  auto sink = make_postgres_sink(with_table(pg_url(), table));
  sink->write(comm(), share(rank(), size(), 1.0f));
  comm().barrier();
  // Rank 0 pauses inside its transaction (after the upserts, before COMMIT) while another
  // connection terminates its backend: the COMMIT finds the connection gone, the next attempt
  // writes the whole run. (The pause comes again on the retry: the killer acts once.)
  std::thread killer;
  if (rank() == 0) {
    killer = std::thread([table] {
      Checker db;
      for (int i = 0; i < 100; ++i) {
        const auto killed = db.rows("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE"
                                    " state = 'idle in transaction' AND query LIKE '%" + table + "%'");
        if (!killed.empty()) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      ADD_FAILURE() << "no transaction to terminate";
    });
  }
  {
    InjectedFault fault("pg_commit@0:sleep=1");
    sink->write(comm(), share(rank(), size(), 3.0f));
  }
  if (rank() == 0) {
    killer.join();
    expect_contents(table, 3.0f);
    Checker().exec("DROP TABLE " + table + "; DROP TABLE " + table + "_skipped");
  }
}

}  // namespace
}  // namespace tickstream
