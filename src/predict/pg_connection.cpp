// The --out URI of the PostgreSQL sink and its libpq connection (pg_connection.hpp).
#include "predict/pg_connection.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>
#include <vector>

namespace tickstream::pg {
namespace {

constexpr size_t kCopyChunkBytes = size_t{1} << 20;
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

// SQLSTATEs worth a new transaction: connection exceptions (08), admin/crash shutdown and
// cannot-connect-now (57P01-57P03), serialization failure and deadlock (40001, 40P01).
bool transient_state(const std::string& state) {
  return state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03" ||
         state == "40001" || state == "40P01";
}

}  // namespace

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

Connection::Connection(const Target& target) : target_(target) {
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

void Connection::exec(const std::string& sql, const std::string& what) {
  PGresult* res = PQexec(conn_, sql.c_str());
  const ExecStatusType status = PQresultStatus(res);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    PQclear(res);
    return;
  }
  fail(res, what);
}

void Connection::copy_in(const std::string& sql, const std::string& data, const std::string& what) {
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

void Connection::fail(PGresult* res, const std::string& what) {
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

}  // namespace tickstream::pg
