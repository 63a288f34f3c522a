// Tests of the HTTP server over real loopback sockets. Clients are raw POSIX sockets (and OpenSSL
// for TLS) so that malformed and slow requests can be sent byte by byte.

#include "http/server.h"

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <random>
#include <set>
#include <stdexcept>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

namespace coffer::http {
namespace {

using namespace std::chrono_literals;

struct ParsedResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A blocking client on a raw socket; every read times out after a few seconds so a server bug
// fails the test instead of hanging it.
class Client {
 public:
  explicit Client(std::uint16_t port, bool ipv6 = false) {
    fd_ = ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    int rc;
    if (ipv6) {
      sockaddr_in6 addr{};
      addr.sin6_family = AF_INET6;
      addr.sin6_port = htons(port);
      addr.sin6_addr = in6addr_loopback;
      rc = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    } else {
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(port);
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      rc = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    }
    connected_ = rc == 0;
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads one response; status 0 when the connection closed or timed out first.
  ParsedResponse Read() {
    ParsedResponse r;
    std::size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return r;
    }
    std::string head = buffer_.substr(0, end);
    buffer_.erase(0, end + 4);
    std::size_t line_end = head.find("\r\n");
    std::string status_line = head.substr(0, line_end);
    if (status_line.size() < 12) return r;
    r.status = std::atoi(status_line.c_str() + 9);
    std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      std::size_t next = head.find("\r\n", pos);
      if (next == std::string::npos) next = head.size();
      std::string line = head.substr(pos, next - pos);
      std::size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        r.headers[Lower(line.substr(0, colon))] = value;
      }
      pos = next + 2;
    }
    std::size_t length = 0;
    if (auto it = r.headers.find("content-length"); it != r.headers.end()) {
      length = std::stoul(it->second);
    }
    while (buffer_.size() < length) {
      if (!Fill()) {
        r.status = 0;
        return r;
      }
    }
    r.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return r;
  }

  // True when the server closes the connection (EOF or reset) within `within`.
  bool ClosedWithin(std::chrono::milliseconds within) {
    auto deadline = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      int rc = ::poll(&p, 1, 50);
      if (rc > 0) {
        char buf[4096];
        ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
        if (n <= 0) return true;
        buffer_.append(buf, static_cast<std::size_t>(n));
      }
    }
    return false;
  }

 private:
  bool Fill() {
    char buf[16384];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

std::string Get(std::string_view target, std::string_view extra_headers = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: localhost\r\n" +
         std::string(extra_headers) + "\r\n";
}

std::string Post(std::string_view target, std::string_view body,
                 std::string_view extra_headers = "") {
  return "POST " + std::string(target) +
         " HTTP/1.1\r\nHost: localhost\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         std::string(extra_headers) + "\r\n" + std::string(body);
}

// Echoes the request: "METHOD TARGET|x-test header|body".
Response Echo(const Request& req) {
  Response r;
  const std::string* test = req.FindHeader("x-TEST");
  r.body = req.method + " " + req.target + "|" + (test ? *test : "-") + "|" + req.body;
  r.headers.emplace_back("Content-Type", "text/plain");
  r.headers.emplace_back("X-Remote", req.remote_address);
  return r;
}

ServerOptions TestOptions() {
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.io_threads = 2;
  o.worker_threads = 4;
  o.drain_timeout = 5000ms;
  return o;
}

std::unique_ptr<Server> MustStart(const ServerOptions& options, Handler handler = Echo) {
  auto server = StartServer(options, std::move(handler));
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  if (!server.ok()) return nullptr;
  EXPECT_NE((*server)->port(), 0);
  return std::move(server).value();
}

TEST(RequestTest, FindHeaderIsCaseInsensitive) {
  Request r;
  r.headers = {{"Host", "a"}, {"X-Amz-Target", "t1"}, {"x-amz-target", "t2"}};
  ASSERT_NE(r.FindHeader("x-amz-target"), nullptr);
  EXPECT_EQ(*r.FindHeader("x-amz-target"), "t1");
  EXPECT_EQ(*r.FindHeader("HOST"), "a");
  EXPECT_EQ(r.FindHeader("X-Amz-Targe"), nullptr);
  EXPECT_EQ(r.FindHeader(""), nullptr);
}

TEST(ServerTest, ServesOnAFreePortWithServerAndContentLength) {
  auto server = MustStart(TestOptions());
  ASSERT_TRUE(server);
  Client c(server->port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send(Post("/a?b=c", "hello", "X-Test: yes\r\n")));
  ParsedResponse r = c.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "POST /a?b=c|yes|hello");
  EXPECT_EQ(r.headers["server"], "coffer");
  EXPECT_EQ(r.headers["content-length"], std::to_string(r.body.size()));
  EXPECT_EQ(r.headers["content-type"], "text/plain");
  EXPECT_EQ(r.headers["x-remote"], "127.0.0.1");
}

TEST(ServerTest, KeepAliveServesSeveralRequestsOnOneSocket) {
  auto server = MustStart(TestOptions());
  ASSERT_TRUE(server);
  Client c(server->port());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(c.Send(Post("/", "n" + std::to_string(i))));
    ParsedResponse r = c.Read();
    ASSERT_EQ(r.status, 200) << i;
    EXPECT_EQ(r.body, "POST /|-|n" + std::to_string(i));
    EXPECT_EQ(r.headers.count("connection"), 0u);
  }
  // Pipelined: three requests in one segment get three responses, in order.
  ASSERT_TRUE(c.Send(Get("/1") + Post("/2", "x") + Get("/3")));
  EXPECT_EQ(c.Read().body, "GET /1|-|");
  EXPECT_EQ(c.Read().body, "POST /2|-|x");
  EXPECT_EQ(c.Read().body, "GET /3|-|");
}

TEST(ServerTest, ConnectionCloseIsHonoured) {
  auto server = MustStart(TestOptions());
  ASSERT_TRUE(server);
  Client c(server->port());
  ASSERT_TRUE(c.Send(Get("/", "Connection: close\r\n")));
  ParsedResponse r = c.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["connection"], "close");
  EXPECT_TRUE(c.ClosedWithin(2000ms));

  // The handler can ask for the close too.
  auto server2 = MustStart(TestOptions(), [](const Request&) {
    Response r;
    r.headers.emplace_back("Connection", "close");
    r.body = "bye";
    return r;
  });
  ASSERT_TRUE(server2);
  Client c2(server2->port());
  ASSERT_TRUE(c2.Send(Get("/")));
  r = c2.Read();
  EXPECT_EQ(r.body, "bye");
  EXPECT_EQ(r.headers["connection"], "close");
  EXPECT_TRUE(c2.ClosedWithin(2000ms));
}

TEST(ServerTest, Http10ClosesUnlessKeepAliveAsked) {
  auto server = MustStart(TestOptions());
  ASSERT_TRUE(server);
  Client c(server->port());
  ASSERT_TRUE(c.Send("GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  ParsedResponse r = c.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["connection"], "keep-alive");
  ASSERT_TRUE(c.Send("GET /old2 HTTP/1.0\r\n\r\n"));
  r = c.Read();
  EXPECT_EQ(r.body, "GET /old2|-|");
  EXPECT_TRUE(c.ClosedWithin(2000ms));
}

TEST(ServerTest, BodyOverTheLimitGets413EarlyFromContentLength) {
  ServerOptions o = TestOptions();
  o.max_body_bytes = 1024;
  auto server = MustStart(o);
  ASSERT_TRUE(server);
  {
    // Only the header is sent: the server answers from Content-Length without the body.
    Client c(server->port());
    ASSERT_TRUE(c.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n"));
    ParsedResponse r = c.Read();
    EXPECT_EQ(r.status, 413);
    EXPECT_LT(r.body.size(), 200u);
    EXPECT_NE(r.body.find("1024"), std::string::npos);
    EXPECT_EQ(r.headers["connection"], "close");
    EXPECT_TRUE(c.ClosedWithin(3000ms));
  }
  {
    // The whole oversized body is sent at once.
    Client c(server->port());
    ASSERT_TRUE(c.Send(Post("/", std::string(5000, 'x'))));
    EXPECT_EQ(c.Read().status, 413);
  }
  {
    // Chunked, so no Content-Length: caught while reading the body.
    Client c(server->port());
    std::string chunk(800, 'y');
    char size_hex[16];
    std::snprintf(size_hex, sizeof(size_hex), "%zx", chunk.size());
    std::string req = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 3; ++i) req += std::string(size_hex) + "\r\n" + chunk + "\r\n";
    req += "0\r\n\r\n";
    ASSERT_TRUE(c.Send(req));
    EXPECT_EQ(c.Read().status, 413);
  }
  {
    // At the limit is fine.
    Client c(server->port());
    ASSERT_TRUE(c.Send(Post("/", std::string(1024, 'z'))));
    ParsedResponse r = c.Read();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.size(), std::string("POST /|-|").size() + 1024);
  }
}

TEST(ServerTest, HugeHeadersGet431) {
  ServerOptions o = TestOptions();
  o.max_header_bytes = 2048;
  auto server = MustStart(o);
  ASSERT_TRUE(server);
  {
    Client c(server->port());
    ASSERT_TRUE(c.Send(Get("/", "X-Big: " + std::string(8000, 'a') + "\r\n")));
    ParsedResponse r = c.Read();
    EXPECT_EQ(r.status, 431);
    EXPECT_TRUE(c.ClosedWithin(3000ms));
  }
  {
    // Many small headers add up the same way.
    Client c(server->port());
    std::string headers;
    for (int i = 0; i < 200; ++i) headers += "X-H" + std::to_string(i) + ": value\r\n";
    ASSERT_TRUE(c.Send(Get("/", headers)));
    EXPECT_EQ(c.Read().status, 431);
  }
  {
    // A header that never ends is cut off at the limit, not buffered forever.
    Client c(server->port());
    ASSERT_TRUE(c.Send("GET / HTTP/1.1\r\nX-Endless: " + std::string(4096, 'b')));
    EXPECT_EQ(c.Read().status, 431);
  }
}

TEST(ServerTest, GarbageGets400AndTheServerKeepsServing) {
  auto server = MustStart(TestOptions());
  ASSERT_TRUE(server);
  const std::vector<std::string> cases = {
      "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n",  // a TLS hello on plain HTTP
      "NOT HTTP AT ALL\r\n\r\n",
      "GET / HTTP/9.9\r\n\r\n",
      "GET / HTTP/1.1\r\nBad Header Without Colon\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      std::string("GET /\0 HTTP/1.1\r\n\r\n", 19),
  };
  for (const std::string& bytes : cases) {
    Client c(server->port());
    ASSERT_TRUE(c.Send(bytes));
    ParsedResponse r = c.Read();
    EXPECT_EQ(r.status, 400) << testing::PrintToString(bytes);
    EXPECT_TRUE(c.ClosedWithin(3000ms));
  }
  // Random bytes: whatever the server answers, it must not crash or hang.
  std::mt19937 rng(42);
  for (int i = 0; i < 200; ++i) {
    Client c(server->port());
    std::string bytes(1 + rng() % 600, '\0');
    for (char& ch : bytes) ch = static_cast<char>(rng());
    if (i % 2 == 0) bytes = "GET / HTTP/1.1\r\n" + bytes + "\r\n\r\n";
    c.Send(bytes);
    (void)c.ClosedWithin(20ms);
  }
  Client c(server->port());
  ASSERT_TRUE(c.Send(Get("/still-alive")));
  EXPECT_EQ(c.Read().body, "GET /still-alive|-|");
}

TEST(ServerTest, ReadTimeoutClosesASlowClient) {
  ServerOptions o = TestOptions();
  o.read_timeout = 300ms;
  o.idle_timeout = 10000ms;
  auto server = MustStart(o);
  ASSERT_TRUE(server);
  Client c(server->port());
  ASSERT_TRUE(c.Send("POST / HTTP/1.1\r\nHost: x\r\n"));  // and then nothing
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.ClosedWithin(3000ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 200ms);

  // Dribbling bytes does not extend the deadline for one request.
  Client d(server->port());
  ASSERT_TRUE(d.Send("P"));
  bool closed = false;
  for (int i = 0; i < 30 && !closed; ++i) {
    std::this_thread::sleep_for(50ms);
    closed = !d.Send("O");
  }
  EXPECT_TRUE(closed || d.ClosedWithin(1000ms));
}

TEST(ServerTest, IdleTimeoutClosesAKeepAliveConnection) {
  ServerOptions o = TestOptions();
  o.read_timeout = 5000ms;
  o.idle_timeout = 300ms;
  auto server = MustStart(o);
  ASSERT_TRUE(server);
  Client c(server->port());
  ASSERT_TRUE(c.Send(Get("/")));
  EXPECT_EQ(c.Read().status, 200);
  EXPECT_TRUE(c.ClosedWithin(3000ms));
}

TEST(ServerTest, ConcurrentBurst) {
  ServerOptions o = TestOptions();
  o.worker_threads = 4;
  auto server = MustStart(o);
  ASSERT_TRUE(server);
  constexpr int kThreads = 8;
  constexpr int kRequests = 100;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Client c(server->port());
      for (int i = 0; i < kRequests; ++i) {
        std::string body = std::to_string(t) + ":" + std::to_string(i);
        if (!c.Send(Post("/burst", body))) return;
        ParsedResponse r = c.Read();
        if (r.status == 200 && r.body == "POST /burst|-|" + body) ok.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kRequests);
}

TEST(ServerTest, InlineHandlerMode) {
  ServerOptions o = TestOptions();
  o.inline_handler = true;
  auto server = MustStart(o);
  ASSERT_TRUE(server);
  Client c(server->port());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.Send(Post("/", "inline")));
    EXPECT_EQ(c.Read().body, "POST /|-|inline");
  }
}

// run_inline picks per request: selected requests run on the (single) I/O thread, the others on
// the worker pool, whose threads are never the I/O thread.
TEST(ServerTest, RunInlinePredicateChoosesTheThreadPerRequest) {
  ServerOptions o = TestOptions();
  o.io_threads = 1;
  std::atomic<int> asked{0};
  o.run_inline = [&asked](const Request& req) {
    asked.fetch_add(1);
    return req.target == "/inline";
  };
  auto server = MustStart(o, [](const Request& req) {
    Response r;
    r.body = std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id()));
    return r;
  });
  ASSERT_TRUE(server);
  Client a(server->port());
  Client b(server->port());
  std::set<std::string> inline_threads;
  std::set<std::string> pool_threads;
  for (int i = 0; i < 4; ++i) {
    for (Client* c : {&a, &b}) {
      ASSERT_TRUE(c->Send(Post("/inline", "x")));
      ParsedResponse r = c->Read();
      ASSERT_EQ(r.status, 200);
      inline_threads.insert(r.body);
      ASSERT_TRUE(c->Send(Post("/pool", "x")));
      r = c->Read();
      ASSERT_EQ(r.status, 200);
      pool_threads.insert(r.body);
    }
  }
  EXPECT_EQ(inline_threads.size(), 1u);  // the one I/O thread
  for (const std::string& id : pool_threads) EXPECT_EQ(inline_threads.count(id), 0u) << id;
  EXPECT_EQ(asked.load(), 16);
}

TEST(ServerTest, RunInlinePredicateThatThrowsFallsBackToThePool) {
  ServerOptions o = TestOptions();
  o.run_inline = [](const Request&) -> bool { throw std::runtime_error("predicate bug"); };
  auto server = MustStart(o);
  ASSERT_TRUE(server);
  Client c(server->port());
  ASSERT_TRUE(c.Send(Post("/", "pool")));
  EXPECT_EQ(c.Read().body, "POST /|-|pool");
}

TEST(ServerTest, HandlerExceptionGives500) {
  auto server = MustStart(TestOptions(), [](const Request& req) -> Response {
    if (req.target == "/throw") throw std::runtime_error("boom");
    return Echo(req);
  });
  ASSERT_TRUE(server);
  Client c(server->port());
  ASSERT_TRUE(c.Send(Get("/throw")));
  EXPECT_EQ(c.Read().status, 500);
  ASSERT_TRUE(c.Send(Get("/fine")));  // the connection survives
  EXPECT_EQ(c.Read().status, 200);
}

TEST(ServerTest, ExpectContinue) {
  auto server = MustStart(TestOptions());
  ASSERT_TRUE(server);
  Client c(server->port());
  ASSERT_TRUE(
      c.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
  ParsedResponse interim = c.Read();
  EXPECT_EQ(interim.status, 100);
  ASSERT_TRUE(c.Send("body"));
  ParsedResponse r = c.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "POST /|-|body");
}

TEST(ServerTest, MaxConnections) {
  ServerOptions o = TestOptions();
  o.max_connections = 2;
  auto server = MustStart(o);
  ASSERT_TRUE(server);
  Client a(server->port());
  Client b(server->port());
  ASSERT_TRUE(a.Send(Get("/a")));
  ASSERT_TRUE(b.Send(Get("/b")));
  EXPECT_EQ(a.Read().status, 200);
  EXPECT_EQ(b.Read().status, 200);
  Client over(server->port());
  EXPECT_TRUE(over.ClosedWithin(2000ms));
  // Once one closes, a new connection is served again.
  a.Send(Get("/", "Connection: close\r\n"));
  a.Read();
  std::this_thread::sleep_for(100ms);
  Client again(server->port());
  ASSERT_TRUE(again.Send(Get("/again")));
  EXPECT_EQ(again.Read().status, 200);
}

TEST(ServerTest, ShutdownDrainsAnInFlightRequestAndClosesIdleOnes) {
  std::atomic<bool> entered{false};
  auto server = MustStart(TestOptions(), [&](const Request& req) {
    if (req.target == "/slow") {
      entered = true;
      std::this_thread::sleep_for(500ms);
    }
    return Echo(req);
  });
  ASSERT_TRUE(server);
  std::uint16_t port = server->port();
  Client idle(port);
  ASSERT_TRUE(idle.Send(Get("/warm")));
  EXPECT_EQ(idle.Read().status, 200);

  Client slow(port);
  ASSERT_TRUE(slow.Send(Get("/slow")));
  while (!entered) std::this_thread::sleep_for(5ms);
  auto start = std::chrono::steady_clock::now();
  std::thread stopper([&] { server->Shutdown(); });
  ParsedResponse r = slow.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "GET /slow|-|");
  EXPECT_EQ(r.headers["connection"], "close");
  EXPECT_TRUE(idle.ClosedWithin(2000ms));
  stopper.join();
  EXPECT_GE(std::chrono::steady_clock::now() - start, 300ms);
  server->Shutdown();  // idempotent

  Client late(port);
  EXPECT_FALSE(late.connected() && late.Send(Get("/")) && late.Read().status == 200);
}

TEST(ServerTest, ListenErrors) {
  ServerOptions o = TestOptions();
  o.listen = "127.0.0.1";
  EXPECT_EQ(StartServer(o, Echo).status().code(), StatusCode::kInvalidArgument);
  o.listen = "127.0.0.1:99999";
  EXPECT_EQ(StartServer(o, Echo).status().code(), StatusCode::kInvalidArgument);
  auto first = MustStart(TestOptions());
  ASSERT_TRUE(first);
  o.listen = "127.0.0.1:" + std::to_string(first->port());
  EXPECT_EQ(StartServer(o, Echo).status().code(), StatusCode::kUnavailable);
}

TEST(ServerTest, Ipv6Loopback) {
  ServerOptions o = TestOptions();
  o.listen = "[::1]:0";
  auto server = StartServer(o, Echo);
  if (!server.ok()) GTEST_SKIP() << "no IPv6 loopback: " << server.status().ToString();
  Client c((*server)->port(), /*ipv6=*/true);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send(Get("/v6")));
  ParsedResponse r = c.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["x-remote"], "::1");
}

// --- TLS ---

class TlsTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("coffer-http-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    cert_ = (dir_ / "cert.pem").string();
    key_ = (dir_ / "key.pem").string();
    std::string cmd =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
        "-keyout " +
        key_ + " -out " + cert_ + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  std::string cert_;
  std::string key_;
};

// One HTTPS request over OpenSSL; returns the raw response text.
std::string TlsRoundTrip(std::uint16_t port, const std::string& request, int max_version = 0) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (max_version) SSL_CTX_set_max_proto_version(ctx, max_version);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) == 1) {
      SSL_write(ssl, request.data(), static_cast<int>(request.size()));
      char buf[4096];
      int n;
      while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0)
        out.append(buf, static_cast<std::size_t>(n));
    }
    SSL_free(ssl);
  }
  ::close(fd);
  SSL_CTX_free(ctx);
  return out;
}

TEST_F(TlsTest, ServesHttps) {
  ServerOptions o = TestOptions();
  o.tls_cert_file = cert_;
  o.tls_key_file = key_;
  auto server = MustStart(o);
  ASSERT_TRUE(server);
  std::string response = TlsRoundTrip(server->port(), Get("/secure", "Connection: close\r\n"));
  EXPECT_EQ(response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << response;
  EXPECT_NE(response.find("GET /secure|-|"), std::string::npos);
  // TLS 1.1 and older are refused.
  EXPECT_EQ(TlsRoundTrip(server->port(), Get("/old"), TLS1_1_VERSION), "");
  // Plain HTTP to the TLS port does not crash it.
  Client plain(server->port());
  plain.Send(Get("/"));
  (void)plain.ClosedWithin(2000ms);
  EXPECT_NE(TlsRoundTrip(server->port(), Get("/again", "Connection: close\r\n")).find("200"),
            std::string::npos);
}

TEST_F(TlsTest, LoadErrorsAreStatuses) {
  ServerOptions o = TestOptions();
  o.tls_cert_file = cert_;
  EXPECT_EQ(StartServer(o, Echo).status().code(), StatusCode::kInvalidArgument);  // no key
  o.tls_key_file = (dir_ / "missing.pem").string();
  auto missing = StartServer(o, Echo);
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("missing.pem"), std::string::npos);
  // A key that does not belong to the certificate.
  std::string other_key = (dir_ / "other.pem").string();
  ASSERT_EQ(std::system(("openssl genrsa -out " + other_key + " 2048 >/dev/null 2>&1").c_str()), 0);
  o.tls_key_file = other_key;
  EXPECT_EQ(StartServer(o, Echo).status().code(), StatusCode::kInvalidArgument);
  o.tls_cert_file = key_;  // not a certificate
  o.tls_key_file = key_;
  EXPECT_EQ(StartServer(o, Echo).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace coffer::http
