#include "net/listener.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <string>
#include <vector>

namespace ringgate::net {
namespace {

config::Listener loopback(uint16_t port) {
  config::Listener l;
  l.address.host = "127.0.0.1";
  l.address.port = port;
  return l;
}

TEST(AcceptErrors, PauseWhenDescriptorsOrMemoryRunOut) {
  for (int error : {EMFILE, ENFILE, ENOBUFS, ENOMEM}) {
    EXPECT_EQ(accept_error_action(-error), AcceptErrorAction::kPause) << error;
  }
}

TEST(AcceptErrors, RepostAtOnceForOneConnectionsFailure) {
  for (int error : {ECONNABORTED, EINTR, EAGAIN, EPROTO, EPERM}) {
    EXPECT_EQ(accept_error_action(-error), AcceptErrorAction::kRepost) << error;
  }
}

TEST(AcceptErrors, StopWhenTheSocketIsGoneOrTheAcceptCancelled) {
  for (int error : {ECANCELED, EBADF, EINVAL, ENOTSOCK}) {
    EXPECT_EQ(accept_error_action(-error), AcceptErrorAction::kStop) << error;
  }
}

class ListenerSocketsTest : public ::testing::Test {
 protected:
  ~ListenerSocketsTest() override {
    for (int fd : owned_) ::close(fd);
  }
  // Sockets handed out are the caller's to close once dropped; the test
  // closes every one it saw at the end.
  void own(const std::vector<std::vector<int>>& fds) {
    for (const auto& per_worker : fds) owned_.insert(per_worker.begin(), per_worker.end());
  }
  std::set<int> owned_;
};

TEST_F(ListenerSocketsTest, KeepsTheSocketsOfAnAddressWhenItMovesInTheList) {
  ListenerSockets sockets(2);
  std::vector<std::vector<int>> first;
  std::string error;
  ASSERT_TRUE(sockets.prepare({loopback(0), loopback(0)}, first, error)) << error;
  // Two port-0 listeners share one address text: the second reuses the first.
  own(first);
  config::Listener a = loopback(0);
  config::Listener b;
  b.address.host = "127.0.0.2";
  b.address.port = 0;
  std::vector<std::vector<int>> two;
  ASSERT_TRUE(sockets.prepare({a, b}, two, error)) << error;
  own(two);
  ASSERT_EQ(two.size(), 2u);
  ASSERT_EQ(two[0].size(), 2u);

  std::vector<std::vector<int>> reordered;
  ASSERT_TRUE(sockets.prepare({b}, reordered, error)) << error;
  ASSERT_EQ(reordered.size(), 1u);
  EXPECT_EQ(reordered[0], two[1]) << "b's sockets follow b, not the first place in the list";
  EXPECT_EQ(sockets.retain_only({b}), std::vector<std::string>{"127.0.0.1:0"});
}

TEST_F(ListenerSocketsTest, WorkersOfOneAddressShareTheKernelsPort) {
  ListenerSockets sockets(3);
  std::vector<std::vector<int>> fds;
  std::string error;
  ASSERT_TRUE(sockets.prepare({loopback(0)}, fds, error)) << error;
  own(fds);
  ASSERT_EQ(fds[0].size(), 3u);
  const uint16_t port = bound_port(fds[0][0]);
  EXPECT_NE(port, 0);
  for (int fd : fds[0]) EXPECT_EQ(bound_port(fd), port);
  EXPECT_EQ(sockets.port_of(loopback(0)), port);
}

TEST_F(ListenerSocketsTest, FailedOpenLeavesWhatWasOpenAndOpensNothingNew) {
  ListenerSockets sockets(1);
  std::vector<std::vector<int>> fds;
  std::string error;
  ASSERT_TRUE(sockets.prepare({loopback(0)}, fds, error)) << error;
  own(fds);
  config::Listener bad;
  bad.address.host = "192.0.2.1";  // not an address of this machine: bind fails
  bad.address.port = 1;
  std::vector<std::vector<int>> next;
  EXPECT_FALSE(sockets.prepare({loopback(0), bad}, next, error));
  EXPECT_NE(error.find("192.0.2.1"), std::string::npos) << error;
  std::vector<std::vector<int>> again;
  ASSERT_TRUE(sockets.prepare({loopback(0)}, again, error)) << error;
  EXPECT_EQ(again, fds);
}

}  // namespace
}  // namespace ringgate::net
