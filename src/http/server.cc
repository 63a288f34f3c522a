// The HTTP/1.1 server: one acceptor, `io_threads` threads running the io_context, and a worker
// pool for handlers. Each connection is a Session on its own strand that moves through
//
//   [TLS handshake] -> idle (waiting for the first byte) -> reading -> handling -> writing -> idle
//
// Requests are parsed with Beast's request_parser fed from our own buffer, so a request that
// arrives in one segment costs exactly one read. The handler runs on the worker pool (it may block
// on a durable commit), or on the I/O thread itself for requests ServerOptions::run_inline picks
// (non-blocking reads: no hand-off to another thread and back); the response is serialised by
// hand and written on the session's strand.

#include "http/server.h"

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_map>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include "core/strings.h"
#include "http/address.h"

namespace coffer::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;

constexpr std::size_t kReadChunk = 16 * 1024;
// After an error response, how long and how much of the client's remaining upload we read and
// discard before closing, so that the close does not turn into a RST that eats the response.
constexpr std::chrono::milliseconds kDrainTime{1000};
constexpr std::size_t kDrainBytes = 4 * 1024 * 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// True when a comma-separated header value lists `token` (case-insensitively).
bool HasToken(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    std::size_t comma = value.find(',');
    std::string_view part = value.substr(0, comma);
    while (!part.empty() && (part.front() == ' ' || part.front() == '\t')) part.remove_prefix(1);
    while (!part.empty() && (part.back() == ' ' || part.back() == '\t')) part.remove_suffix(1);
    if (EqualsIgnoreCase(part, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

std::string_view Sv(beast::string_view s) { return {s.data(), s.size()}; }

bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

void AppendNumber(std::string& out, std::uint64_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), n);
  out.append(buf, end);
}

Response PlainResponse(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  r.body = std::move(body);
  return r;
}

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // The server is shutting down. Thread-safe: hops onto the session's strand.
  virtual void OnServerStop() = 0;
};

class ServerImpl;

template <bool kTls>
class Session;

class ServerImpl final : public Server {
 public:
  ServerImpl(ServerOptions options, Handler handler)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        ioc_(options_.io_threads),
        acceptor_(asio::make_strand(ioc_)),
        retry_timer_(acceptor_.get_executor()),
        work_(asio::make_work_guard(ioc_)) {}

  ~ServerImpl() override { Shutdown(); }

  Status Start();
  std::uint16_t port() const override { return port_; }
  void Shutdown() override;

  const ServerOptions& options() const { return options_; }
  asio::thread_pool& workers() { return *workers_; }
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }

  void Unregister(std::uint64_t id) {
    std::lock_guard<std::mutex> lock(sessions_mu_);
    sessions_.erase(id);
    if (sessions_.empty()) sessions_cv_.notify_all();
  }

  // Whether `request` is handled on the I/O thread (see ServerOptions::run_inline).
  bool RunsInline(const Request& request) const noexcept {
    if (options_.inline_handler) return true;
    if (!options_.run_inline) return false;
    try {
      return options_.run_inline(request);
    } catch (...) {
      return false;  // the worker pool is always safe
    }
  }

  // Runs the handler; an escaped exception becomes a 500.
  Response Invoke(const Request& request) const noexcept {
    try {
      return handler_(request);
    } catch (const std::exception& e) {
      spdlog::error("http: handler threw on {} {}: {}", request.method, request.target, e.what());
    } catch (...) {
      spdlog::error("http: handler threw a non-exception on {} {}", request.method, request.target);
    }
    return PlainResponse(500, "internal server error\n");
  }

 private:
  Result<tcp::endpoint> ResolveListen();
  Status SetUpTls();
  void DoAccept();
  void OnAccept(error_code ec, tcp::socket socket);

  ServerOptions options_;
  Handler handler_;

  // Declared before ioc_: sessions destroyed together with the io_context unregister here.
  std::mutex sessions_mu_;
  std::condition_variable sessions_cv_;
  std::unordered_map<std::uint64_t, std::weak_ptr<SessionBase>> sessions_;
  std::uint64_t next_session_id_ = 0;

  std::optional<ssl::context> ssl_ctx_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_timer_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::optional<asio::thread_pool> workers_;
  std::vector<std::thread> io_threads_;
  std::uint16_t port_ = 0;

  std::atomic<bool> stopping_{false};
  std::mutex shutdown_mu_;
  bool shut_down_ = false;
};

template <bool kTls>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<kTls>> {
 public:
  using Stream = std::conditional_t<kTls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

  Session(ServerImpl* server, std::uint64_t id, tcp::socket&& socket, ssl::context* ctx,
          std::string remote)
      : server_(server), id_(id), stream_(MakeStream(std::move(socket), ctx)) {
    request_.remote_address = std::move(remote);
    request_.tls = kTls;
  }

  ~Session() override { server_->Unregister(id_); }

  void Start() {
    if constexpr (kTls) {
      state_ = State::kHandshake;
      Lowest().expires_after(server_->options().read_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](error_code ec) {
                                if (ec) return self->Close();
                                self->DoReadRequest();
                              });
    } else {
      DoReadRequest();
    }
  }

  void OnServerStop() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] { self->HandleStop(); });
  }

 private:
  enum class State { kHandshake, kIdle, kReading, kHandling, kWriting, kDraining, kClosed };

  static Stream MakeStream(tcp::socket&& socket, ssl::context* ctx) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *ctx);
    } else {
      return Stream(std::move(socket));
    }
  }

  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void HandleStop() {
    // Connections waiting for a request are closed now; a request being read, handled or
    // written finishes, and its response carries `Connection: close`.
    if (state_ == State::kIdle || state_ == State::kHandshake || state_ == State::kDraining) {
      Close();
    }
  }

  void DoReadRequest() {
    if (server_->stopping()) return Close();
    const ServerOptions& opts = server_->options();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(opts.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    parser_->body_limit(opts.max_body_bytes);
    continue_sent_ = false;
    if (buffer_.size() > 0) {  // a pipelined request is already here
      BeginReading();
      return ParseAndContinue();
    }
    state_ = State::kIdle;
    Lowest().expires_after(first_request_ ? opts.read_timeout : opts.idle_timeout);
    DoReadSome();
  }

  void BeginReading() {
    state_ = State::kReading;
    deadline_ = std::chrono::steady_clock::now() + server_->options().read_timeout;
  }

  void DoReadSome() {
    stream_.async_read_some(
        buffer_.prepare(kReadChunk),
        [self = this->shared_from_this()](error_code ec, std::size_t n) { self->OnRead(ec, n); });
  }

  void OnRead(error_code ec, std::size_t n) {
    buffer_.commit(n);
    if (ec) return Close();  // EOF, timeout, reset or closed by shutdown
    if (state_ == State::kIdle) BeginReading();
    if (state_ != State::kReading) return Close();
    ParseAndContinue();
  }

  void ParseAndContinue() {
    beast::error_code ec;
    while (buffer_.size() > 0 && !parser_->is_done()) {
      std::size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == bhttp::error::need_more) {
        ec = {};
        break;
      }
      if (ec || used == 0) break;
    }
    if (ec) return OnParseError(ec);
    if (parser_->is_done()) return Dispatch();
    if (parser_->is_header_done() && !continue_sent_) {
      continue_sent_ = true;
      auto& msg = parser_->get();
      auto it = msg.find(bhttp::field::expect);
      if (it != msg.end() && EqualsIgnoreCase(Sv(it->value()), "100-continue")) {
        Lowest().expires_at(deadline_);
        asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                          [self = this->shared_from_this()](error_code ec, std::size_t) {
                            if (ec) return self->Close();
                            self->ParseAndContinue();
                          });
        return;
      }
    }
    Lowest().expires_at(deadline_);
    DoReadSome();
  }

  void OnParseError(beast::error_code ec) {
    const ServerOptions& opts = server_->options();
    if (ec == bhttp::error::header_limit) {
      return WriteError(PlainResponse(431, "request header fields exceed " +
                                               std::to_string(opts.max_header_bytes) + " bytes\n"));
    }
    if (ec == bhttp::error::body_limit) {
      return WriteError(PlainResponse(
          413, "request body exceeds " + std::to_string(opts.max_body_bytes) + " bytes\n"));
    }
    spdlog::debug("http: malformed request from {}: {}", request_.remote_address, ec.message());
    WriteError(PlainResponse(400, "malformed HTTP request\n"));
  }

  void WriteError(Response response) {
    parser_.reset();
    keep_alive_ = false;
    head_request_ = false;
    http10_ = false;
    response_ = std::move(response);
    WriteResponse(/*then_drain=*/true);
  }

  void Dispatch() {
    state_ = State::kHandling;
    Lowest().expires_never();
    auto& msg = parser_->get();
    request_.method.assign(msg.method_string().data(), msg.method_string().size());
    request_.target.assign(msg.target().data(), msg.target().size());
    // Assign into the previous request's strings, so that a keep-alive connection stops
    // allocating for its headers once it has seen a request of the same shape.
    std::size_t count = 0;
    for (const auto& field : msg) {
      if (count == request_.headers.size()) request_.headers.emplace_back();
      auto& [name, value] = request_.headers[count++];
      name.assign(Sv(field.name_string()));
      value.assign(Sv(field.value()));
    }
    request_.headers.resize(count);
    request_.body = std::move(msg.body());
    keep_alive_ = msg.keep_alive();
    head_request_ = msg.method() == bhttp::verb::head;
    http10_ = msg.version() < 11;
    parser_.reset();

    if (server_->RunsInline(request_)) {
      response_ = server_->Invoke(request_);
      return WriteResponse(false);
    }
    asio::post(server_->workers(), [self = this->shared_from_this()]() mutable {
      self->response_ = self->server_->Invoke(self->request_);
      auto executor = self->stream_.get_executor();
      asio::post(executor, [self = std::move(self)] { self->WriteResponse(false); });
    });
  }

  // Serialises response_ (status line and headers into head_, the body sent from its string).
  void WriteResponse(bool then_drain) {
    if (state_ == State::kClosed) return;
    state_ = State::kWriting;
    bool keep = keep_alive_ && !server_->stopping();
    int status = response_.status;
    if (status < 100 || status > 999) status = 500;
    for (const auto& [name, value] : response_.headers) {
      if (EqualsIgnoreCase(name, "connection") && HasToken(value, "close")) keep = false;
    }
    bool no_body = head_request_ || status == 204 || status == 304 || status < 200;

    head_.clear();
    head_.append("HTTP/1.1 ");
    AppendNumber(head_, static_cast<std::uint64_t>(status));
    head_.push_back(' ');
    auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
    head_.append(reason.data(), reason.size());
    head_.append("\r\n");
    for (const auto& [name, value] : response_.headers) {
      if (name.empty() || HasLineBreak(name) || HasLineBreak(value)) continue;
      if (EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "connection") ||
          EqualsIgnoreCase(name, "server") || EqualsIgnoreCase(name, "transfer-encoding")) {
        continue;
      }
      head_.append(name).append(": ").append(value).append("\r\n");
    }
    head_.append("Server: coffer\r\n");
    if (status != 204 && status >= 200) {
      head_.append("Content-Length: ");
      AppendNumber(head_, response_.body.size());
      head_.append("\r\n");
    }
    if (!keep) {
      head_.append("Connection: close\r\n");
    } else if (http10_) {
      head_.append("Connection: keep-alive\r\n");
    }
    head_.append("\r\n");

    std::array<asio::const_buffer, 2> buffers = {
        asio::buffer(head_), no_body ? asio::const_buffer() : asio::buffer(response_.body)};
    Lowest().expires_after(server_->options().read_timeout);
    asio::async_write(stream_, buffers,
                      [self = this->shared_from_this(), keep, then_drain](
                          error_code ec, std::size_t) { self->OnWrite(ec, keep, then_drain); });
  }

  void OnWrite(error_code ec, bool keep, bool then_drain) {
    if (ec) return Close();
    response_.headers.clear();
    response_.body.clear();
    request_.body.clear();
    if (then_drain) return StartDrain();
    if (!keep) return Close();
    first_request_ = false;
    DoReadRequest();
  }

  // After an error response: stop sending, and read and discard what the client still sends for
  // a short while, so that closing with unread data does not reset the connection before the
  // client has read the response.
  void StartDrain() {
    state_ = State::kDraining;
    if constexpr (!kTls) {
      error_code ignored;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
    drained_ = 0;
    buffer_.clear();
    Lowest().expires_after(kDrainTime);
    DoDrain();
  }

  void DoDrain() {
    stream_.async_read_some(buffer_.prepare(kReadChunk), [self = this->shared_from_this()](
                                                             error_code ec, std::size_t n) {
      self->drained_ += n;
      self->buffer_.clear();
      if (ec || self->drained_ > kDrainBytes || self->state_ != State::kDraining) {
        return self->Close();
      }
      self->DoDrain();
    });
  }

  void Close() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    parser_.reset();
    error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    Lowest().close();
  }

  ServerImpl* server_;
  std::uint64_t id_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  State state_ = State::kIdle;
  bool first_request_ = true;
  bool continue_sent_ = false;
  bool keep_alive_ = false;
  bool head_request_ = false;
  bool http10_ = false;
  std::size_t drained_ = 0;
  std::chrono::steady_clock::time_point deadline_;
  Request request_;
  Response response_;
  std::string head_;
};

Result<tcp::endpoint> ServerImpl::ResolveListen() {
  COFFER_ASSIGN_OR_RETURN(HostPort hp, ParseHostPort(options_.listen));
  error_code ec;
  asio::ip::address address = asio::ip::make_address(hp.host, ec);
  if (!ec) return tcp::endpoint(address, hp.port);
  if (hp.ipv6_literal) {
    return Status::InvalidArgument("invalid IPv6 address in listen address \"" + options_.listen +
                                   "\"");
  }
  tcp::resolver resolver(ioc_);
  auto results = resolver.resolve(hp.host, std::to_string(hp.port), ec);
  if (ec || results.empty()) {
    return Status::InvalidArgument("cannot resolve listen host \"" + hp.host +
                                   "\": " + ec.message());
  }
  return results.begin()->endpoint();
}

Status ServerImpl::SetUpTls() {
  if (options_.tls_cert_file.empty() && options_.tls_key_file.empty()) return Status::Ok();
  if (options_.tls_cert_file.empty() || options_.tls_key_file.empty()) {
    return Status::InvalidArgument("TLS needs both a certificate file and a key file");
  }
  try {
    ssl_ctx_.emplace(ssl::context::tls_server);
    ssl_ctx_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                          ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                          ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    SSL_CTX_set_min_proto_version(ssl_ctx_->native_handle(), TLS1_2_VERSION);
    ssl_ctx_->use_certificate_chain_file(options_.tls_cert_file);
  } catch (const boost::system::system_error& e) {
    ssl_ctx_.reset();
    return Status::InvalidArgument("loading TLS certificate " + options_.tls_cert_file + ": " +
                                   e.code().message());
  }
  try {
    ssl_ctx_->use_private_key_file(options_.tls_key_file, ssl::context::pem);
  } catch (const boost::system::system_error& e) {
    ssl_ctx_.reset();
    return Status::InvalidArgument("loading TLS key " + options_.tls_key_file + ": " +
                                   e.code().message());
  }
  if (SSL_CTX_check_private_key(ssl_ctx_->native_handle()) != 1) {
    ssl_ctx_.reset();
    return Status::InvalidArgument("TLS key " + options_.tls_key_file +
                                   " does not match certificate " + options_.tls_cert_file);
  }
  return Status::Ok();
}

Status ServerImpl::Start() {
  if (options_.io_threads < 1 || options_.worker_threads < 1) {
    return Status::InvalidArgument("io_threads and worker_threads must be at least 1");
  }
  if (options_.max_connections < 1) {
    return Status::InvalidArgument("max_connections must be at least 1");
  }
  COFFER_ASSIGN_OR_RETURN(tcp::endpoint endpoint, ResolveListen());
  COFFER_RETURN_IF_ERROR(SetUpTls());

  error_code ec;
  auto fail = [&](std::string_view what) {
    return Status::Unavailable("cannot listen on " + options_.listen + ": " + std::string(what) +
                               ": " + ec.message());
  };
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return fail("open");
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return fail("set SO_REUSEADDR");
  acceptor_.bind(endpoint, ec);
  if (ec) return fail("bind");
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  port_ = acceptor_.local_endpoint(ec).port();
  if (ec) return fail("local address");

  workers_.emplace(static_cast<std::size_t>(options_.worker_threads));
  asio::dispatch(acceptor_.get_executor(), [this] { DoAccept(); });
  io_threads_.reserve(static_cast<std::size_t>(options_.io_threads));
  for (int i = 0; i < options_.io_threads; ++i) {
    io_threads_.emplace_back([this] {
      for (;;) {
        try {
          ioc_.run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("http: I/O thread caught: {}", e.what());
        }
      }
    });
  }
  return Status::Ok();
}

void ServerImpl::DoAccept() {
  acceptor_.async_accept(asio::make_strand(ioc_), [this](error_code ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void ServerImpl::OnAccept(error_code ec, tcp::socket socket) {
  if (stopping()) return;  // the acceptor is being closed
  if (ec) {
    if (ec == asio::error::operation_aborted) return;
    // Usually EMFILE/ENFILE: back off briefly instead of spinning.
    spdlog::warn("http: accept failed: {}", ec.message());
    retry_timer_.expires_after(std::chrono::milliseconds(50));
    retry_timer_.async_wait([this](error_code wait_ec) {
      if (!wait_ec && !stopping()) DoAccept();
    });
    return;
  }
  std::uint64_t id = 0;
  bool over_limit = false;
  {
    std::lock_guard<std::mutex> lock(sessions_mu_);
    over_limit = sessions_.size() >= options_.max_connections;
    id = ++next_session_id_;
  }
  if (over_limit) {
    error_code ignored;
    socket.close(ignored);
    DoAccept();
    return;
  }
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  std::string remote;
  auto remote_endpoint = socket.remote_endpoint(ignored);
  if (!ignored) remote = remote_endpoint.address().to_string();

  auto executor = socket.get_executor();
  std::shared_ptr<SessionBase> base;
  std::function<void()> start;
  if (ssl_ctx_) {
    auto session =
        std::make_shared<Session<true>>(this, id, std::move(socket), &*ssl_ctx_, std::move(remote));
    base = session;
    start = [session] { session->Start(); };
  } else {
    auto session =
        std::make_shared<Session<false>>(this, id, std::move(socket), nullptr, std::move(remote));
    base = session;
    start = [session] { session->Start(); };
  }
  {
    std::lock_guard<std::mutex> lock(sessions_mu_);
    sessions_.emplace(id, base);
  }
  // Start on the session's strand so that nothing else (OnServerStop) runs concurrently.
  asio::dispatch(executor, std::move(start));
  DoAccept();
}

void ServerImpl::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(shutdown_mu_);
    if (shut_down_) return;
    shut_down_ = true;
  }
  stopping_.store(true, std::memory_order_release);
  if (io_threads_.empty()) {  // Start() failed or never ran
    work_.reset();
    return;
  }
  asio::post(acceptor_.get_executor(), [this] {
    error_code ignored;
    acceptor_.close(ignored);
    retry_timer_.cancel();
  });

  std::vector<std::shared_ptr<SessionBase>> live;
  {
    std::lock_guard<std::mutex> lock(sessions_mu_);
    live.reserve(sessions_.size());
    for (auto& [id, weak] : sessions_) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->OnServerStop();
  live.clear();

  {
    std::unique_lock<std::mutex> lock(sessions_mu_);
    bool drained =
        sessions_cv_.wait_for(lock, options_.drain_timeout, [this] { return sessions_.empty(); });
    if (!drained) {
      spdlog::warn("http: {} connection(s) still open after the drain timeout; closing them",
                   sessions_.size());
    }
  }
  work_.reset();
  ioc_.stop();
  for (auto& t : io_threads_) t.join();
  io_threads_.clear();
  if (workers_) workers_->join();
}

}  // namespace

Result<std::unique_ptr<Server>> StartServer(const ServerOptions& options, Handler handler) {
  if (!handler) return Status::InvalidArgument("http server needs a handler");
  auto server = std::make_unique<ServerImpl>(options, std::move(handler));
  COFFER_RETURN_IF_ERROR(server->Start());
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace coffer::http
