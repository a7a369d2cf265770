// The PostgreSQL sink against a real server (TICKSTREAM_PG_URL, started by tests/pg/server.sh).
#include <libpq-fe.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <string>
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
}

TEST_F(MpiPostgres, UnreachableServerFailsEveryRankWithInputError) {
  // Port 1 on loopback: nothing listens there, the connection is refused at once.
  auto sink = make_postgres_sink("postgresql://postgres:hunter2@127.0.0.1:1/tickstream_test");
  try {
    sink->write(comm(), share(rank(), size(), 1.0f));
    ADD_FAILURE() << "write to an unreachable server succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), kExitInput);
    const std::string what = e.what();
    EXPECT_NE(what.find("cannot connect"), std::string::npos) << what;
    EXPECT_NE(what.find("127.0.0.1:1"), std::string::npos) << what;
    EXPECT_EQ(what.find("hunter2"), std::string::npos) << "password shown: " << what;
  }
}

}  // namespace
}  // namespace tickstream
