#include "admin/admin_server.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "admin_test_support.hpp"

namespace ringgate::admin {
namespace {

using testing::bearer;
using testing::request_head;

// An AdminServer driven by hand: connections are socketpairs handed to
// adopt(), the clock moves only when the test says so, and turn() is one
// pass of the control thread's loop with a poll that never sleeps.
class AdminSessions : public ::testing::Test {
 protected:
  AdminSessions()
      : server_(
            testing::admin_settings(), [] { return std::string("up 1\n"); },
            [this] { return now_ms_; }) {
    server_.set_resources(&resources_);
  }
  ~AdminSessions() override {
    for (int fd : clients_) ::close(fd);
  }

  // A new connection; returns the client's end.
  int connect() {
    int pair[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair), 0);
    server_.adopt(pair[0]);
    clients_.push_back(pair[1]);
    return pair[1];
  }

  void turn() {
    std::vector<pollfd> fds;
    server_.collect(fds);
    ASSERT_GE(::poll(fds.data(), fds.size(), 0), 0);
    for (const pollfd& p : fds) {
      if (p.revents != 0) server_.handle(p);
    }
  }

  void turns(int n = 4) {
    for (int i = 0; i < n; ++i) turn();
  }

  // Sends what the socket takes now; returns how much.
  static size_t send_some(int fd, std::string_view bytes) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    return n > 0 ? static_cast<size_t>(n) : 0;
  }

  // Everything the server has sent so far.
  static std::string received(int fd) {
    std::string out;
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      out.append(buffer, static_cast<size_t>(n));
    }
    return out;
  }

  // The server closed (or shut down) its side.
  static bool closed_by_server(int fd) {
    char byte;
    for (;;) {
      const ssize_t n = ::recv(fd, &byte, 1, 0);
      if (n == 0) return true;
      if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
    }
  }

  long long now_ms_ = 1'000'000;
  testing::FakeResources resources_;
  AdminServer server_;
  std::vector<int> clients_;
};

TEST_F(AdminSessions, SendsTheResourcesAnswerWithItsHeaders) {
  AdminResponse answer;
  answer.body = R"({"id":"/apis/orders"})";
  answer.headers = {{"ETag", "\"42\""}};
  resources_.answer = answer;
  const int client = connect();
  send_some(client, request_head("GET", "/apis/orders", {bearer()}));
  turns();
  const std::string reply = received(client);
  EXPECT_EQ(reply.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << reply;
  EXPECT_NE(reply.find("\r\nETag: \"42\"\r\n"), std::string::npos) << reply;
  EXPECT_NE(reply.find("\r\nX-Content-Type-Options: nosniff\r\n"), std::string::npos) << reply;
  EXPECT_NE(reply.find("\r\nCache-Control: no-store\r\n"), std::string::npos) << reply;
  EXPECT_TRUE(closed_by_server(client));
}

TEST_F(AdminSessions, PassesTheWholeBodyToTheResources) {
  resources_.answer = AdminResponse{};
  const std::string body(300000, 'b');
  const int client = connect();
  std::string request = request_head("PUT", "/certificates/c1",
                                     {bearer(), "Content-Length: " + std::to_string(body.size())});
  request += body;
  for (size_t sent = 0; sent < request.size();) {
    sent += send_some(client, std::string_view(request).substr(sent));
    turn();
  }
  // One read of at most 16 KiB per readiness: the rest arrives over more turns.
  for (int i = 0; i < 100 && resources_.calls == 0; ++i) turn();
  EXPECT_EQ(resources_.calls, 1);
  EXPECT_EQ(resources_.body.size(), body.size());
}

TEST_F(AdminSessions, HoldsADeferredAnswerUntilItIsReady) {
  bool ready = false;
  AdminResponse answer;
  answer.status = 201;
  answer.ready = [&ready] { return ready; };
  answer.wait_deadline_ms = now_ms_ + 5000;
  resources_.answer = answer;
  const int client = connect();
  send_some(client, request_head("PUT", "/apis/orders", {bearer(), "Content-Length: 0"}));
  turns();
  EXPECT_EQ(received(client), "");
  EXPECT_LE(server_.next_timeout_ms(), kReadyCheckMs);
  now_ms_ += 100;
  turns();
  EXPECT_EQ(received(client), "");
  ready = true;
  turns();
  EXPECT_EQ(received(client).rfind("HTTP/1.1 201 Created\r\n", 0), 0u);
}

TEST_F(AdminSessions, SendsAHeldAnswerWhenItsDeadlinePasses) {
  AdminResponse answer;
  answer.status = 200;
  answer.ready = [] { return false; };
  answer.wait_deadline_ms = now_ms_ + 2000;
  resources_.answer = answer;
  const int client = connect();
  send_some(client, request_head("DELETE", "/certificates/c1", {bearer()}));
  turns();
  now_ms_ += 1999;
  turns();
  EXPECT_EQ(received(client), "");
  now_ms_ += 1;
  turns();
  EXPECT_EQ(received(client).rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
}

TEST_F(AdminSessions, AnswersAnUnauthenticatedUploadBeforeReadingItsBody) {
  const int client = connect();
  std::string request = request_head("PUT", "/certificates/c1", {"Content-Length: 52428800"});
  request += std::string(1000, 'x');
  send_some(client, request);
  turn();
  const std::string reply = received(client);
  EXPECT_EQ(reply.rfind("HTTP/1.1 401 Unauthorized\r\n", 0), 0u) << reply;
  EXPECT_NE(reply.find("\r\nWWW-Authenticate: Bearer"), std::string::npos) << reply;
  EXPECT_TRUE(closed_by_server(client));
  EXPECT_EQ(resources_.calls, 0);
}

TEST_F(AdminSessions, RefusesADeclaredBodyOverOneMebibyteAtTheHead) {
  const int client = connect();
  send_some(client, request_head("PUT", "/certificates/c1", {bearer(), "Content-Length: 3145728"}));
  turn();
  EXPECT_EQ(received(client).rfind("HTTP/1.1 413 ", 0), 0u);
  EXPECT_EQ(resources_.calls, 0);
}

TEST_F(AdminSessions, RefusesAChunkedBodyOnceItPassesOneMebibyte) {
  const int client = connect();
  send_some(client,
            request_head("PUT", "/certificates/c1", {bearer(), "Transfer-Encoding: chunked"}));
  std::string stream;
  for (int i = 0; i < 20; ++i) stream += "10000\r\n" + std::string(0x10000, 'c') + "\r\n";
  std::string reply;
  for (size_t sent = 0; sent < stream.size() && reply.empty();) {
    sent += send_some(client, std::string_view(stream).substr(sent));
    turn();
    reply = received(client);
  }
  EXPECT_EQ(reply.rfind("HTTP/1.1 413 ", 0), 0u) << reply.substr(0, 200);
  EXPECT_EQ(resources_.calls, 0);
}

TEST_F(AdminSessions, SendsContinueOnlyAfterTheTokenIsAccepted) {
  const int stranger = connect();
  send_some(stranger,
            request_head("PUT", "/apis/a", {"Content-Length: 10", "Expect: 100-continue"}));
  const int admin = connect();
  send_some(admin, request_head("PUT", "/apis/a",
                                {bearer(), "Content-Length: 10", "Expect: 100-continue"}));
  turn();
  EXPECT_EQ(received(stranger).rfind("HTTP/1.1 401 ", 0), 0u);
  EXPECT_EQ(received(admin), "HTTP/1.1 100 Continue\r\n\r\n");
}

TEST_F(AdminSessions, AnswersHeadWithTheGetLengthAndNoBody) {
  const int client = connect();
  send_some(client, request_head("HEAD", "/healthz", {bearer()}));
  turns();
  const std::string reply = received(client);
  EXPECT_NE(reply.find("\r\nContent-Length: 15\r\n"), std::string::npos) << reply;
  EXPECT_EQ(reply.size(), reply.find("\r\n\r\n") + 4) << reply;
}

TEST_F(AdminSessions, AnswersAMalformedHeadWithTheEnvelope) {
  const int client = connect();
  send_some(client, "GET /healthz HTTP/1.1\r\nHost : admin\r\n\r\n");
  turns();
  const std::string reply = received(client);
  EXPECT_EQ(reply.rfind("HTTP/1.1 400 ", 0), 0u) << reply;
  EXPECT_NE(reply.find("\"code\":\"InvalidRequest\""), std::string::npos) << reply;
}

TEST_F(AdminSessions, ClosesAConnectionWhoseHeadIsNotCompleteInTenSeconds) {
  const int client = connect();
  send_some(client, "GET /healthz HTTP/1.1\r\n");
  turns();
  now_ms_ += kHeadTimeoutMs - 1;
  turns();
  EXPECT_FALSE(closed_by_server(client));
  now_ms_ += 1;
  turns();
  EXPECT_TRUE(closed_by_server(client));
  EXPECT_EQ(server_.session_count(), 0u);
}

TEST_F(AdminSessions, ClosesAConnectionWhoseBodyStalls) {
  const int client = connect();
  send_some(client, request_head("PUT", "/apis/a", {bearer(), "Content-Length: 10"}));
  turns();
  send_some(client, "abc");
  turns();
  now_ms_ += kIdleTimeoutMs;
  turns();
  EXPECT_TRUE(closed_by_server(client));
  EXPECT_EQ(resources_.calls, 0);
}

TEST_F(AdminSessions, AnswersBusyBeyondTheSessionLimit) {
  for (size_t i = 0; i < kMaxSessions; ++i) connect();
  EXPECT_EQ(server_.session_count(), kMaxSessions);
  const int extra = connect();
  EXPECT_EQ(server_.session_count(), kMaxSessions);
  const std::string reply = received(extra);
  EXPECT_EQ(reply.rfind("HTTP/1.1 503 ", 0), 0u) << reply;
  EXPECT_NE(reply.find("\r\nRetry-After: 1\r\n"), std::string::npos) << reply;
  EXPECT_TRUE(closed_by_server(extra));
}

TEST_F(AdminSessions, ServesAgainOnceSessionsClose) {
  for (size_t i = 0; i < kMaxSessions; ++i) connect();
  for (int fd : clients_) ::close(fd);
  clients_.clear();
  turns();
  EXPECT_EQ(server_.session_count(), 0u);
  const int client = connect();
  send_some(client, request_head("GET", "/healthz", {bearer()}));
  turns();
  EXPECT_EQ(received(client).rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
}

TEST_F(AdminSessions, SleepsUntilTheNearestDeadline) {
  EXPECT_EQ(server_.next_timeout_ms(), kMaxPollTimeoutMs);
  connect();
  turn();
  now_ms_ += kHeadTimeoutMs - 250;
  EXPECT_EQ(server_.next_timeout_ms(), 250);
}

TEST_F(AdminSessions, IgnoresADescriptorItDoesNotOwn) {
  const int client = connect();
  server_.handle(pollfd{client, POLLIN, POLLIN});
  server_.handle(pollfd{-1, 0, 0});
  EXPECT_EQ(server_.session_count(), 1u);
}

}  // namespace
}  // namespace ringgate::admin
