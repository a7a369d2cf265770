// A PostgreSQL connection for the prediction sink: the --out URI parsed (table, retry budget, the
// password kept out of every message) and one libpq connection whose failures are classified:
// transient (retry the transaction), refused (bad input), bad rows (internal).
#pragma once

#include <libpq-fe.h>

#include <string>
#include <vector>

#include "core/error.hpp"

namespace tickstream::pg {

inline constexpr const char* kDefaultTable = "tickstream_predictions";
inline constexpr double kDefaultRetrySeconds = 30;

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

// Parses and checks --out (libpq's parser included): InputError naming it, password masked.
Target parse_target(const std::string& uri);

// A failure that a new connection may not have: the connection was lost or refused, the server
// is starting up or shutting down, or the transaction lost a serialization conflict. The whole
// transaction is retried (see write_with_retries).
class TransientError : public InputError {
 public:
  using InputError::InputError;
};

// One libpq connection; closing it without COMMIT rolls back (the server aborts the open
// transaction of a closed connection).
class Connection {
 public:
  // TransientError when the server does not answer; InputError when it refuses us.
  explicit Connection(const Target& target);
  ~Connection() { PQfinish(conn_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one command; an error naming the target and `what` when the server refuses it.
  void exec(const std::string& sql, const std::string& what);
  // COPY `sql` FROM STDIN with `data` (COPY text rows), sent in chunks of kCopyChunkBytes.
  void copy_in(const std::string& sql, const std::string& data, const std::string& what);

 private:
  // Data and integrity errors (classes 22, 23) mean tickstream sent bad rows: internal. A lost
  // connection or a transient SQLSTATE: TransientError. Anything else: the server refused.
  [[noreturn]] void fail(PGresult* res, const std::string& what);

  const Target& target_;
  PGconn* conn_ = nullptr;
};

}  // namespace tickstream::pg
