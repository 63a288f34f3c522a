#pragma once

// A small HTTP/1.1 server on Boost.Beast. It knows nothing about AWS: it reads a request within
// limits, hands it to a Handler on a worker pool, and writes the Response back, with keep-alive.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace coffer::http {

struct Request {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;  // names as received, in order
  std::string body;
  std::string remote_address;  // peer IP, no port
  bool tls = false;            // arrived over HTTPS

  // First header with this name, compared case-insensitively; nullptr when absent.
  const std::string* FindHeader(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Called on a worker thread; may block (e.g. on a durable commit). Must not throw: the server
// turns an escaped exception into a 500 and logs it, but handlers should return errors as values.
// Called on the I/O thread instead for requests that ServerOptions::run_inline selects.
using Handler = std::function<Response(const Request&)>;

// Decides, on the I/O thread and for one complete request, whether its Handler runs right there.
// Must be cheap, thread-safe and must not throw.
using InlinePredicate = std::function<bool(const Request&)>;

struct ServerOptions {
  std::string listen = "127.0.0.1:7430";  // Default: 127.0.0.1:7430. Port 0 picks a free port.
  std::string tls_cert_file;  // Default: none (plain HTTP). Both or neither with tls_key_file.
  std::string tls_key_file;
  std::size_t max_header_bytes = 16 * 1024;        // Default: 16 KiB; larger headers get 431/400.
  std::size_t max_body_bytes = 1024 * 1024;        // Default: 1 MiB; larger bodies get 413.
  std::chrono::milliseconds read_timeout{30000};   // Default: 30 s to read one request.
  std::chrono::milliseconds idle_timeout{60000};   // Default: 60 s idle keep-alive.
  std::chrono::milliseconds drain_timeout{30000};  // Default: 30 s for in-flight work on shutdown.
  int io_threads = 2;                              // Default: 2.
  int worker_threads = 64;  // Default: 64 handler threads (handlers may block on fsync).
  std::size_t max_connections = 10000;  // Default: 10000; beyond it new connections are closed.
  // Default: false. When true the Handler runs on the I/O thread that read the request, which
  // saves two thread hops per request but is only safe for handlers that never block.
  bool inline_handler = false;
  // Default: null (only inline_handler decides). Per request: when it returns true, the Handler
  // runs on the I/O thread that read the request (no hop to the worker pool and back); when
  // false, on the worker pool. Select only requests whose handling never blocks for long (reads
  // that do not wait for a durable commit): a blocked I/O thread stalls its other connections.
  InlinePredicate run_inline;
};

class Server {
 public:
  virtual ~Server() = default;
  // The bound port (the chosen one when `listen` asked for port 0).
  virtual std::uint16_t port() const = 0;
  // Stops accepting, lets in-flight requests finish (up to drain_timeout), closes idle
  // connections, and returns when all threads have stopped. Idempotent; may be called from any
  // thread except the server's own I/O and worker threads (e.g. a signal-handling thread). The
  // destructor calls it.
  virtual void Shutdown() = 0;
};

// Binds, listens and starts the I/O and worker threads. Errors: kInvalidArgument for a bad
// `listen` or options, kUnavailable when the address cannot be bound, kInvalidArgument when the
// TLS certificate or key cannot be loaded.
Result<std::unique_ptr<Server>> StartServer(const ServerOptions& options, Handler handler);

}  // namespace coffer::http
