// put_load: a closed-loop load generator for coffer that signs EVERY request with SigV4.
//
// wrk can only replay one pre-signed request, which is fine for GetSecretValue but not for
// PutSecretValue: each write needs a fresh ClientRequestToken (a repeated token is an idempotent
// no-op), so the body, and with it the signature, changes per request. put_load keeps
// --connections keep-alive connections on --threads epoll loops, each with exactly one request
// in flight, and for every request builds a unique token and signs it with coffer::sigv4.
//
//   put_load --port P --op create --prefix bench-put-1 --secrets 2048
//       CreateSecret bench-put-1/0 .. bench-put-1/2047 (each once), then stop.
//   put_load --port P --op put --prefix bench-put-1 --secrets 2048 --duration 10
//       For 10 s, PutSecretValue with a fresh token, round-robin over those secrets.
//   put_load --port P --op get --prefix bench-put-1 --secrets 2048 --duration 10
//       GetSecretValue, signed per request (a cross-check of wrk's replay).
//
// Credentials come from COFFER_ROOT_ACCESS_KEY_ID / COFFER_ROOT_SECRET_ACCESS_KEY. Every response
// must be HTTP 200: the first few failures are printed (AWS's __type and Message; error bodies
// carry no secret values) and the exit code is 2. The last line of output is machine-readable:
//   RESULT op=put requests=N errors=E seconds=S rps=R ok_rps=R p50_us=.. p90_us=.. p99_us=..
//   p999_us=.. max_us=..
// Latencies cover every answer, errors included.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "sigv4/sigv4.h"

namespace coffer::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

enum class Op { kCreate, kPut, kGet };

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string op = "put";
  int connections = 32;
  int threads = 2;
  double duration_s = 10;
  std::uint64_t max_requests = 0;  // put/get: stop after this many requests (0 = no bound)
  std::string prefix = "bench-put";
  std::uint64_t secrets = 2048;
  std::size_t value_bytes = 200;
  std::string region = "us-east-1";
  std::string access_key_id;
  std::string secret_access_key;
};

// State shared by all threads: the work counter, the run id for tokens, and the error report.
struct Shared {
  const Options* options = nullptr;
  Op op = Op::kPut;
  std::string host_header;
  std::uint64_t run_id = 0;  // random, makes tokens unique across runs
  std::atomic<std::uint64_t> next{0};
  SteadyClock::time_point deadline;
  std::atomic<std::uint64_t> errors{0};
  std::mutex report_mu;
  int reported = 0;
};

struct ThreadResult {
  std::vector<std::uint32_t> latencies_us;
  std::uint64_t errors = 0;
};

// A UUID-shaped (36 chars, within AWS's 32..64) token, unique per (run, counter).
std::string MakeToken(std::uint64_t run_id, std::uint64_t counter) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08" PRIx64 "-%04" PRIx64 "-4%03" PRIx64 "-%04" PRIx64
                "-%012" PRIx64,
                (counter >> 28) & 0xffffffffu, (counter >> 12) & 0xffffu, counter & 0xfffu,
                0x8000u | ((run_id >> 48) & 0x3fffu), run_id & 0xffffffffffffu);
  return buf;
}

// A realistic database-credentials JSON of exactly `size` bytes (at least ~150), unique per
// counter so that no two versions hold the same value.
std::string MakeValue(std::uint64_t counter, std::size_t size) {
  std::string head =
      R"({"engine":"postgres","host":"orders-db.cluster-c1x2y3.eu-west-1.internal",)"
      R"("port":5432,"username":"orders_app","dbname":"orders","password":")";
  std::string password = "Pw" + std::to_string(counter) + "-";
  const std::string tail = "\"}";
  static constexpr char kAlphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  std::uint64_t x = counter * 0x9E3779B97F4A7C15ull + 1;
  while (head.size() + password.size() + tail.size() < size) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    password += kAlphabet[x % (sizeof kAlphabet - 1)];
  }
  return head + password + tail;
}

std::string SecretName(const Options& o, std::uint64_t i) {
  return o.prefix + "/" + std::to_string(i % o.secrets);
}

class Connection {
 public:
  Connection(Shared* shared, int epoll_fd) : shared_(shared), epoll_fd_(epoll_fd) {}
  ~Connection() { Close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool done() const { return done_; }

  // Connects (blocking) and sends the first request.
  bool Start(ThreadResult* result) {
    result_ = result;
    if (!Connect()) return false;
    return SendNext();
  }

  // Handles readiness; returns false when the connection has finished (deadline, work exhausted,
  // or a fatal error).
  void OnEvent(std::uint32_t events) {
    if (events & EPOLLOUT) {
      if (!Flush()) return Fail("write failed");
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
      char buf[16384];
      for (;;) {
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n > 0) {
          in_.append(buf, static_cast<std::size_t>(n));
          if (static_cast<std::size_t>(n) < sizeof buf) break;
          continue;
        }
        if (n == 0) return Fail("server closed the connection");
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR) continue;
        return Fail(std::string("recv: ") + std::strerror(errno));
      }
      TryComplete();
    }
  }

 private:
  bool Connect() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(shared_->options->port));
    if (::inet_pton(AF_INET, shared_->options->host.c_str(), &addr.sin_addr) != 1) return false;
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      std::fprintf(stderr, "put_load: connect: %s\n", std::strerror(errno));
      return false;
    }
    watching_out_ = false;
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = this;
    return ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd_, &ev) == 0;
  }

  void Close() {
    if (fd_ >= 0) {
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd_, nullptr);
      ::close(fd_);
      fd_ = -1;
    }
  }

  void Finish() {
    Close();
    done_ = true;
  }

  void Fail(const std::string& why) {
    ++result_->errors;
    shared_->errors.fetch_add(1);
    Report("connection error: " + why);
    Finish();
  }

  void Report(const std::string& line) {
    std::lock_guard lock(shared_->report_mu);
    if (shared_->reported++ < 5) std::fprintf(stderr, "put_load: %s\n", line.c_str());
  }

  // Builds, signs and starts writing the next request; finishes the connection when there is
  // no more work.
  bool SendNext() {
    const Options& o = *shared_->options;
    std::uint64_t i;
    if (shared_->op == Op::kCreate) {
      i = shared_->next.fetch_add(1);
      if (i >= o.secrets) {
        Finish();
        return true;
      }
    } else {
      if (SteadyClock::now() >= shared_->deadline) {
        Finish();
        return true;
      }
      i = shared_->next.fetch_add(1);
      if (o.max_requests != 0 && i >= o.max_requests) {
        Finish();
        return true;
      }
    }

    nlohmann::json body;
    std::string_view action;
    switch (shared_->op) {
      case Op::kCreate:
        action = "CreateSecret";
        body["Name"] = SecretName(o, i);
        body["ClientRequestToken"] = MakeToken(shared_->run_id, i);
        body["SecretString"] = MakeValue(i, o.value_bytes);
        break;
      case Op::kPut:
        action = "PutSecretValue";
        body["SecretId"] = SecretName(o, i);
        // Offset by `secrets` so no put reuses a token of the create phase of the same run id.
        body["ClientRequestToken"] = MakeToken(shared_->run_id, o.secrets + i);
        body["SecretString"] = MakeValue(o.secrets + i, o.value_bytes);
        break;
      case Op::kGet:
        action = "GetSecretValue";
        body["SecretId"] = SecretName(o, i);
        break;
    }
    const std::string body_text = body.dump();

    sigv4::HeaderList headers = {
        {"Host", shared_->host_header},
        {"Content-Type", "application/x-amz-json-1.1"},
        {"X-Amz-Target", "secretsmanager." + std::string(action)},
    };
    const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
    sigv4::SignRequest("POST", "/", headers, body_text, o.access_key_id, o.secret_access_key,
                       o.region, "secretsmanager", now_ms);

    out_.clear();
    out_off_ = 0;
    out_.append("POST / HTTP/1.1\r\n");
    for (const auto& [name, value] : headers) out_.append(name).append(": ").append(value) += "\r\n";
    out_.append("Content-Length: ").append(std::to_string(body_text.size())) += "\r\n\r\n";
    out_.append(body_text);
    in_.clear();
    sent_at_ = SteadyClock::now();
    if (!Flush()) {
      Fail("write failed");
      return false;
    }
    return true;
  }

  // Writes what it can; asks for EPOLLOUT while something is left.
  bool Flush() {
    while (out_off_ < out_.size()) {
      ssize_t n = ::send(fd_, out_.data() + out_off_, out_.size() - out_off_, MSG_NOSIGNAL);
      if (n > 0) {
        out_off_ += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      return false;
    }
    const bool want_out = out_off_ < out_.size();
    if (want_out != watching_out_) {
      epoll_event ev{};
      ev.events = EPOLLIN | (want_out ? EPOLLOUT : 0u);
      ev.data.ptr = this;
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd_, &ev);
      watching_out_ = want_out;
    }
    return true;
  }

  static bool HeaderIs(std::string_view line, std::string_view name) {
    if (line.size() <= name.size() || line[name.size()] != ':') return false;
    for (std::size_t k = 0; k < name.size(); ++k) {
      if (std::tolower(static_cast<unsigned char>(line[k])) != name[k]) return false;
    }
    return true;
  }

  static std::string_view HeaderValue(std::string_view line) {
    std::string_view v = line.substr(line.find(':') + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
  }

  // Parses a complete response out of in_ (status line, Content-Length, body) when it is there.
  void TryComplete() {
    const std::size_t header_end = in_.find("\r\n\r\n");
    if (header_end == std::string::npos) return;
    std::string_view head(in_.data(), header_end);
    int status = 0;
    if (head.size() < 12 || head.substr(0, 5) != "HTTP/") return Fail("malformed status line");
    status = std::atoi(std::string(head.substr(9, 3)).c_str());
    long content_length = -1;
    bool close_after = false;
    std::size_t pos = head.find("\r\n");
    while (pos != std::string_view::npos) {
      const std::size_t next = head.find("\r\n", pos + 2);
      std::string_view line = head.substr(pos + 2, next == std::string_view::npos
                                                       ? std::string_view::npos
                                                       : next - pos - 2);
      if (HeaderIs(line, "content-length")) {
        content_length = std::atol(std::string(HeaderValue(line)).c_str());
      } else if (HeaderIs(line, "connection")) {
        std::string v(HeaderValue(line));
        std::transform(v.begin(), v.end(), v.begin(), ::tolower);
        close_after = v == "close";
      } else if (HeaderIs(line, "transfer-encoding")) {
        return Fail("chunked responses are not supported by put_load");
      }
      pos = next;
    }
    if (content_length < 0) return Fail("response without Content-Length");
    const std::size_t total = header_end + 4 + static_cast<std::size_t>(content_length);
    if (in_.size() < total) return;

    const auto latency = std::chrono::duration_cast<std::chrono::microseconds>(
        SteadyClock::now() - sent_at_);
    result_->latencies_us.push_back(static_cast<std::uint32_t>(latency.count()));
    if (status != 200) {
      ++result_->errors;
      shared_->errors.fetch_add(1);
      std::string what = "HTTP " + std::to_string(status);
      try {
        auto err = nlohmann::json::parse(in_.substr(header_end + 4, content_length));
        what += " " + err.value("__type", std::string()) + ": " +
                err.value("Message", std::string());
      } catch (const nlohmann::json::exception&) {
        what += " (non-JSON body)";
      }
      Report(what);
    }
    if (in_.size() > total) return Fail("response followed by unexpected bytes");
    if (close_after) {
      Close();
      if (!Connect()) return Fail("reconnect failed");
    }
    SendNext();
  }

  Shared* shared_;
  int epoll_fd_;
  int fd_ = -1;
  bool done_ = false;
  bool watching_out_ = false;
  ThreadResult* result_ = nullptr;
  std::string out_;
  std::size_t out_off_ = 0;
  std::string in_;
  SteadyClock::time_point sent_at_;
};

void RunThread(Shared* shared, int connections, ThreadResult* result) {
  const int epoll_fd = ::epoll_create1(0);
  std::vector<std::unique_ptr<Connection>> conns;
  for (int c = 0; c < connections; ++c) {
    conns.push_back(std::make_unique<Connection>(shared, epoll_fd));
    if (!conns.back()->Start(result)) {
      ++result->errors;
      shared->errors.fetch_add(1);
      conns.pop_back();
    }
  }
  epoll_event events[64];
  for (;;) {
    const bool any_active =
        std::any_of(conns.begin(), conns.end(), [](const auto& c) { return !c->done(); });
    if (!any_active) break;
    const int n = ::epoll_wait(epoll_fd, events, 64, 200);
    for (int k = 0; k < n; ++k) {
      static_cast<Connection*>(events[k].data.ptr)->OnEvent(events[k].events);
    }
  }
  conns.clear();
  ::close(epoll_fd);
}

std::uint32_t Percentile(const std::vector<std::uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  std::size_t idx = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size()));
  return sorted[std::min(idx, sorted.size() - 1)];
}

int Main(int argc, char** argv) {
  Options o;
  CLI::App app{"Closed-loop SigV4-signing load generator for coffer (see bench/README.md)."};
  app.add_option("--host", o.host, "server IPv4 address")->capture_default_str();
  app.add_option("--port", o.port, "server port")->required();
  app.add_option("--op", o.op, "create | put | get")
      ->check(CLI::IsMember({"create", "put", "get"}))
      ->capture_default_str();
  app.add_option("--connections,-c", o.connections, "keep-alive connections")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--threads,-t", o.threads, "epoll threads")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--duration,-d", o.duration_s, "seconds (put, get)")->capture_default_str();
  app.add_option("--max-requests", o.max_requests,
                 "put/get: stop after this many requests (0 = until the duration ends)")
      ->capture_default_str();
  app.add_option("--prefix", o.prefix, "secret names are PREFIX/0 .. PREFIX/N-1")
      ->capture_default_str();
  app.add_option("--secrets", o.secrets, "number of secrets")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--value-bytes", o.value_bytes, "SecretString size (>= 160)")
      ->capture_default_str();
  app.add_option("--region", o.region)->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const char* ak = std::getenv("COFFER_ROOT_ACCESS_KEY_ID");
  const char* sk = std::getenv("COFFER_ROOT_SECRET_ACCESS_KEY");
  if (ak == nullptr || sk == nullptr) {
    std::fprintf(stderr, "put_load: set COFFER_ROOT_ACCESS_KEY_ID and "
                         "COFFER_ROOT_SECRET_ACCESS_KEY\n");
    return 1;
  }
  o.access_key_id = ak;
  o.secret_access_key = sk;
  o.threads = std::min(o.threads, o.connections);

  Shared shared;
  shared.options = &o;
  shared.op = o.op == "create" ? Op::kCreate : o.op == "put" ? Op::kPut : Op::kGet;
  shared.host_header = o.host + ":" + std::to_string(o.port);
  std::random_device rd;
  shared.run_id = (static_cast<std::uint64_t>(rd()) << 32) | rd();

  const auto start = SteadyClock::now();
  shared.deadline =
      start + std::chrono::duration_cast<SteadyClock::duration>(
                  std::chrono::duration<double>(o.duration_s));
  std::vector<ThreadResult> results(static_cast<std::size_t>(o.threads));
  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) {
    const int share = o.connections / o.threads + (t < o.connections % o.threads ? 1 : 0);
    threads.emplace_back(RunThread, &shared, share, &results[static_cast<std::size_t>(t)]);
  }
  for (auto& th : threads) th.join();
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();

  std::vector<std::uint32_t> all;
  std::uint64_t errors = 0;
  for (const auto& r : results) {
    all.insert(all.end(), r.latencies_us.begin(), r.latencies_us.end());
    errors += r.errors;
  }
  std::sort(all.begin(), all.end());
  // rps counts every answer; ok_rps only the HTTP 200s (they differ only when errors > 0).
  const std::uint64_t ok = all.size() > errors ? all.size() - errors : 0;
  std::printf("RESULT op=%s requests=%zu errors=%" PRIu64 " seconds=%.3f rps=%.1f ok_rps=%.1f "
              "p50_us=%u p90_us=%u p99_us=%u p999_us=%u max_us=%u\n",
              o.op.c_str(), all.size(), errors, seconds,
              static_cast<double>(all.size()) / seconds, static_cast<double>(ok) / seconds,
              Percentile(all, 50), Percentile(all, 90), Percentile(all, 99), Percentile(all, 99.9),
              all.empty() ? 0u : all.back());
  if (shared.op == Op::kCreate && all.size() != o.secrets) {
    std::fprintf(stderr, "put_load: created %zu of %" PRIu64 " secrets\n", all.size(),
                 o.secrets);
    return 2;
  }
  return errors == 0 && !all.empty() ? 0 : 2;
}

}  // namespace
}  // namespace coffer::bench

int main(int argc, char** argv) { return coffer::bench::Main(argc, argv); }
