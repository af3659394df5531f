// Specification of the proxy engine's I/O protocol, driven through a fake
// ring: the test sees every operation the engine submits and delivers each
// completion itself, in the order a kernel could — so the cases only a busy
// production box reaches (no buffer left, a completion for a slot that was
// reused since, data racing a cancel, a full submission queue, a pooled
// connection that closed as it was reused) run here deterministically.
#include "proxy/engine.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <liburing.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/log_writer.hpp"
#include "core/metrics.hpp"
#include "core/snapshot.hpp"
#include "core/worker_shared.hpp"

namespace ringgate::proxy {
namespace {

using io::Submission;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr uint32_t kBuffers = 16;
constexpr uint32_t kBufferSize = 4096;

// An engine on a fake ring, with its protected entry points opened up.
class EngineUnderTest : public Engine {
 public:
  EngineUnderTest(core::WorkerShared& shared, std::shared_ptr<const core::Snapshot> snapshot)
      : Engine(0, shared, 1000) {
    ring_.init_fake(64);
    buffers_.init_fake(0, kBuffers, kBufferSize);
    snapshot_ = std::move(snapshot);
    switch_pools();
  }
  using Engine::accept_client;
  using Engine::after_turn;
  using Engine::live_clients;
  io::Ring& ring() { return ring_; }
  io::BufferRing& buffers() { return buffers_; }
  core::WorkerCounters& counters() { return counters_; }

  void complete(uint64_t user_data, int res, uint32_t flags = 0) {
    io_uring_cqe cqe{};
    cqe.user_data = user_data;
    cqe.res = res;
    cqe.flags = flags;
    on_completion(decode_user_data(user_data), cqe);
  }
};

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config::LoadResult loaded = config::load_string(
        R"({"gateway": {"listeners": [{"address": "127.0.0.1:0"}],
                        "pool": {"minIdle": 0, "maxPerKey": 4, "idleTimeoutMs": 60000}},
            "apis": {"api": {"path": "api", "serviceUrl": "http://127.0.0.1:9/base"}}})",
        "/tmp");
    ASSERT_TRUE(loaded.config) << (loaded.problems.empty() ? "" : loaded.problems[0].message);
    std::vector<config::Problem> problems;
    snapshot_ = core::build_snapshot(loaded.config, certs::CertificateSet{}, 1, problems);
    ASSERT_TRUE(snapshot_);
    metrics_ = std::make_unique<core::Metrics>(1);
    core::LogWriter::Options options;
    options.error_fd = -1;
    logs_ = std::make_unique<core::LogWriter>(1, options);
    shared_.metrics = metrics_.get();
    shared_.logs = logs_.get();
    shared_.snapshots.publish(snapshot_);
    engine_ = std::make_unique<EngineUnderTest>(shared_, snapshot_);
  }

  void TearDown() override {
    engine_.reset();
    for (int fd : peers_) ::close(fd);
  }

  // A connected client socket handed to the engine as accepted; returns it.
  int accept() {
    int pair[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
    peers_.push_back(pair[1]);
    engine_->accept_client(pair[0], nullptr);
    return pair[0];
  }

  // Submissions since the last call.
  std::vector<Submission> taken() { return engine_->ring().take_submissions(); }

  static const Submission* find(const std::vector<Submission>& subs, Submission::Kind kind,
                                int fd = -2) {
    for (const Submission& s : subs) {
      if (s.kind == kind && (fd == -2 || s.fd == fd)) return &s;
    }
    return nullptr;
  }

  // Delivers `bytes` to the receive `recv` in a provided buffer; `more`:
  // the (multishot) receive stays armed.
  void deliver(const Submission& recv, const std::string& bytes, bool more = true) {
    const uint16_t id = next_buffer_++ % kBuffers;
    std::memcpy(engine_->buffers().buffer(id), bytes.data(), bytes.size());
    uint32_t flags = IORING_CQE_F_BUFFER | (uint32_t{id} << IORING_CQE_BUFFER_SHIFT);
    if (more) flags |= IORING_CQE_F_MORE;
    engine_->complete(recv.user_data, static_cast<int>(bytes.size()), flags);
  }

  // Completes a send in full; returns what it carried.
  std::string complete_send(const Submission& send) {
    std::string bytes(static_cast<const char*>(send.data), send.len);
    engine_->complete(send.user_data, static_cast<int>(send.len));
    return bytes;
  }

  core::WorkerShared shared_;
  std::shared_ptr<const core::Snapshot> snapshot_;
  std::unique_ptr<core::Metrics> metrics_;
  std::unique_ptr<core::LogWriter> logs_;
  std::unique_ptr<EngineUnderTest> engine_;
  std::vector<int> peers_;
  uint16_t next_buffer_ = 0;
};

constexpr const char* kGet = "GET /api/items HTTP/1.1\r\nHost: gw\r\n\r\n";
constexpr const char* kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

TEST_F(EngineTest, Engine_ForwardsARequestAndRelaysTheResponse) {
  const int client = accept();
  auto subs = taken();
  const Submission* client_recv = find(subs, Submission::Kind::kRecvMultishot, client);
  ASSERT_NE(client_recv, nullptr);

  deliver(*client_recv, kGet);
  subs = taken();
  const Submission* connect = find(subs, Submission::Kind::kConnect);
  ASSERT_NE(connect, nullptr);
  const int backend = connect->fd;

  engine_->complete(connect->user_data, 0);
  subs = taken();
  const Submission* to_backend = find(subs, Submission::Kind::kSend, backend);
  const Submission* backend_recv = find(subs, Submission::Kind::kRecvMultishot, backend);
  ASSERT_NE(to_backend, nullptr);
  ASSERT_NE(backend_recv, nullptr);
  EXPECT_THAT(complete_send(*to_backend), StartsWith("GET /base/items HTTP/1.1\r\n"));

  deliver(*backend_recv, kOk);
  subs = taken();
  const Submission* to_client = find(subs, Submission::Kind::kSend, client);
  ASSERT_NE(to_client, nullptr);
  const std::string response = complete_send(*to_client);
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(response, HasSubstr("\r\n\r\nok"));
  // Both provided buffers went back to the kernel.
  EXPECT_EQ(engine_->buffers().recycled().size(), 2u);
}

TEST_F(EngineTest, Engine_ReArmsAReceiveThatFoundNoBufferOnceBuffersReturn) {
  const int client = accept();
  const Submission* recv = nullptr;
  auto subs = taken();
  recv = find(subs, Submission::Kind::kRecvMultishot, client);
  ASSERT_NE(recv, nullptr);

  engine_->complete(recv->user_data, -ENOBUFS);
  EXPECT_TRUE(taken().empty());  // nothing re-armed in the same turn: no spin

  engine_->after_turn();
  subs = taken();
  EXPECT_NE(find(subs, Submission::Kind::kRecvMultishot, client), nullptr);
  EXPECT_EQ(engine_->live_clients(), 1u);
}

TEST_F(EngineTest, Engine_IgnoresACompletionForASlotReusedSince) {
  const int first = accept();
  auto subs = taken();
  const Submission old_recv = *find(subs, Submission::Kind::kRecvMultishot, first);
  engine_->complete(old_recv.user_data, 0);  // end of stream: the slot is freed
  ASSERT_EQ(engine_->live_clients(), 0u);

  const int second = accept();  // takes the same slot, with a new generation
  subs = taken();
  const Submission* new_recv = find(subs, Submission::Kind::kRecvMultishot, second);
  ASSERT_NE(new_recv, nullptr);
  ASSERT_NE(new_recv->user_data, old_recv.user_data);
  EXPECT_EQ(decode_user_data(new_recv->user_data).slot, decode_user_data(old_recv.user_data).slot);

  // A late completion of the old receive carries a buffer and a request.
  deliver(old_recv, kGet);
  EXPECT_TRUE(taken().empty());                         // the new connection did not act on it
  EXPECT_EQ(engine_->buffers().recycled().size(), 1u);  // and the buffer went back
  EXPECT_EQ(engine_->live_clients(), 1u);
}

TEST_F(EngineTest, Engine_KeepsTheReceiveArmedAndHoldsAPipelinedRequestUntilTheResponse) {
  const int client = accept();
  auto subs = taken();
  const Submission client_recv = *find(subs, Submission::Kind::kRecvMultishot, client);
  deliver(client_recv, kGet);
  subs = taken();
  // The request is complete; the multishot receive stays armed (no cancel,
  // no new receive) while its response is on the way.
  EXPECT_EQ(find(subs, Submission::Kind::kCancel), nullptr);
  EXPECT_EQ(find(subs, Submission::Kind::kRecvMultishot, client), nullptr);
  const Submission connect = *find(subs, Submission::Kind::kConnect);

  // A pipelined request arrives meanwhile: held, not routed yet.
  deliver(client_recv, "GET /api/second HTTP/1.1\r\nHost: gw\r\n\r\n");
  subs = taken();
  EXPECT_EQ(find(subs, Submission::Kind::kCancel), nullptr);
  EXPECT_EQ(find(subs, Submission::Kind::kConnect), nullptr);

  engine_->complete(connect.user_data, 0);
  subs = taken();
  const Submission to_backend = *find(subs, Submission::Kind::kSend, connect.fd);
  const Submission backend_recv = *find(subs, Submission::Kind::kRecvMultishot, connect.fd);
  EXPECT_THAT(complete_send(to_backend), StartsWith("GET /base/items "));
  deliver(backend_recv, kOk);
  subs = taken();
  ASSERT_NE(find(subs, Submission::Kind::kSend, client), nullptr);
  // The held request goes out on the same, now idle, backend connection.
  const Submission* second = find(subs, Submission::Kind::kSend, connect.fd);
  ASSERT_NE(second, nullptr);
  EXPECT_THAT(complete_send(*second), StartsWith("GET /base/second "));
}

TEST_F(EngineTest, Engine_PausesAClientThatPipelinesTooMuchDuringAnExchange) {
  const int client = accept();
  auto subs = taken();
  const Submission client_recv = *find(subs, Submission::Kind::kRecvMultishot, client);
  deliver(client_recv, kGet);
  taken();
  const std::string chunk(kBufferSize, 'x');
  const Submission* cancel = nullptr;
  for (int i = 0; i < 64 && cancel == nullptr; ++i) {
    deliver(client_recv, chunk);
    subs = taken();
    cancel = find(subs, Submission::Kind::kCancel);
  }
  ASSERT_NE(cancel, nullptr);  // 64 KiB held: reading pauses
  EXPECT_EQ(cancel->target, client_recv.user_data);
}

TEST_F(EngineTest, Engine_AnswersAClientThatEndedItsInputThenCloses) {
  const int client = accept();
  auto subs = taken();
  const Submission client_recv = *find(subs, Submission::Kind::kRecvMultishot, client);
  deliver(client_recv, kGet);
  subs = taken();
  const Submission connect = *find(subs, Submission::Kind::kConnect);
  // The client half-closes (shutdown(SHUT_WR)) as its request goes out.
  engine_->complete(client_recv.user_data, 0);
  EXPECT_EQ(engine_->live_clients(), 1u);

  engine_->complete(connect.user_data, 0);
  subs = taken();
  complete_send(*find(subs, Submission::Kind::kSend, connect.fd));
  deliver(*find(subs, Submission::Kind::kRecvMultishot, connect.fd), kOk);
  subs = taken();
  const Submission* to_client = find(subs, Submission::Kind::kSend, client);
  ASSERT_NE(to_client, nullptr);
  EXPECT_THAT(complete_send(*to_client), StartsWith("HTTP/1.1 200 OK\r\n"));
  // Answered; nothing more will come, so no receive is armed again.
  subs = taken();
  EXPECT_EQ(find(subs, Submission::Kind::kRecvMultishot, client), nullptr);
  EXPECT_EQ(find(subs, Submission::Kind::kRecv, client), nullptr);
  EXPECT_EQ(engine_->live_clients(), 0u);
}

TEST_F(EngineTest, Engine_ReadsOnWhenTheClientDrainedBeforeAPauseLanded) {
  const int client = accept();
  auto subs = taken();
  const Submission client_recv = *find(subs, Submission::Kind::kRecvMultishot, client);
  deliver(client_recv, kGet);
  subs = taken();
  const Submission connect = *find(subs, Submission::Kind::kConnect);
  engine_->complete(connect.user_data, 0);
  subs = taken();
  complete_send(*find(subs, Submission::Kind::kSend, connect.fd));
  const Submission backend_recv = *find(subs, Submission::Kind::kRecvMultishot, connect.fd);

  // A large response arrives faster than the client takes it: once enough
  // is queued for the client, the backend's receive is withdrawn.
  deliver(backend_recv, "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n");
  const std::string chunk(kBufferSize, 'x');
  const Submission* cancel = nullptr;
  std::vector<Submission> to_client;
  for (int i = 0; i < 64 && cancel == nullptr; ++i) {
    deliver(backend_recv, chunk);
    subs = taken();
    cancel = find(subs, Submission::Kind::kCancel);
    if (const Submission* send = find(subs, Submission::Kind::kSend, client)) {
      to_client.push_back(*send);
    }
  }
  ASSERT_NE(cancel, nullptr);
  EXPECT_EQ(cancel->target, backend_recv.user_data);

  // The client drains everything before the cancel's completion arrives.
  ASSERT_EQ(to_client.size(), 1u);
  Submission send = to_client.front();
  for (;;) {
    complete_send(send);
    subs = taken();
    const Submission* next = find(subs, Submission::Kind::kSend, client);
    if (next == nullptr) break;
    send = *next;
  }
  engine_->complete(backend_recv.user_data, -ECANCELED);
  // The response reads on: the backend's receive is armed again.
  subs = taken();
  EXPECT_NE(find(subs, Submission::Kind::kRecvMultishot, connect.fd), nullptr);
}

TEST_F(EngineTest, Engine_FailsOnlyTheOperationTheFullQueueRefused) {
  const int client = accept();
  auto subs = taken();
  const Submission client_recv = *find(subs, Submission::Kind::kRecvMultishot, client);

  engine_->ring().refuse_next(1);  // the backend connect finds the queue full
  deliver(client_recv, kGet);
  subs = taken();
  EXPECT_EQ(find(subs, Submission::Kind::kConnect), nullptr);
  const Submission* to_client = find(subs, Submission::Kind::kSend, client);
  ASSERT_NE(to_client, nullptr);
  EXPECT_THAT(complete_send(*to_client), StartsWith("HTTP/1.1 502 "));
  EXPECT_EQ(engine_->live_clients(), 1u);  // the client connection carries on
}

TEST_F(EngineTest, Engine_RetriesAnIdempotentRequestWhenAReusedConnectionClosed) {
  const int client = accept();
  auto subs = taken();
  const Submission client_recv = *find(subs, Submission::Kind::kRecvMultishot, client);
  deliver(client_recv, kGet);
  subs = taken();
  const Submission connect = *find(subs, Submission::Kind::kConnect);
  engine_->complete(connect.user_data, 0);
  subs = taken();
  complete_send(*find(subs, Submission::Kind::kSend, connect.fd));
  const Submission backend_recv = *find(subs, Submission::Kind::kRecvMultishot, connect.fd);
  deliver(backend_recv, kOk);
  subs = taken();
  complete_send(*find(subs, Submission::Kind::kSend, client));
  taken();

  // The second request reuses the pooled connection, which the backend had
  // closed: end of stream before any response byte.
  deliver(client_recv, kGet);
  subs = taken();
  const Submission* reused = find(subs, Submission::Kind::kSend, connect.fd);
  ASSERT_NE(reused, nullptr);
  complete_send(*reused);
  engine_->complete(backend_recv.user_data, 0);
  subs = taken();
  // Replayed once on a fresh connection, no error to the client.
  const Submission* fresh = find(subs, Submission::Kind::kConnect);
  ASSERT_NE(fresh, nullptr);
  EXPECT_NE(fresh->user_data, connect.user_data);
  EXPECT_EQ(find(subs, Submission::Kind::kSend, client), nullptr);
  EXPECT_EQ(engine_->counters().retries_total.load(), 1u);
}

// The same close after part of a response head: the backend got the request
// and began answering, so the client gets 502 rather than a second request.
TEST_F(EngineTest, Engine_DoesNotRetryWhenAReusedConnectionClosedMidResponse) {
  const int client = accept();
  auto subs = taken();
  const Submission client_recv = *find(subs, Submission::Kind::kRecvMultishot, client);
  deliver(client_recv, kGet);
  subs = taken();
  const Submission connect = *find(subs, Submission::Kind::kConnect);
  engine_->complete(connect.user_data, 0);
  subs = taken();
  complete_send(*find(subs, Submission::Kind::kSend, connect.fd));
  const Submission backend_recv = *find(subs, Submission::Kind::kRecvMultishot, connect.fd);
  deliver(backend_recv, kOk);
  subs = taken();
  complete_send(*find(subs, Submission::Kind::kSend, client));
  taken();

  deliver(client_recv, kGet);
  subs = taken();
  const Submission* reused = find(subs, Submission::Kind::kSend, connect.fd);
  ASSERT_NE(reused, nullptr);
  complete_send(*reused);
  deliver(backend_recv, "HTTP/1.1 200 OK\r\nContent-");
  engine_->complete(backend_recv.user_data, 0);
  subs = taken();
  EXPECT_EQ(find(subs, Submission::Kind::kConnect), nullptr);
  const Submission* to_client = find(subs, Submission::Kind::kSend, client);
  ASSERT_NE(to_client, nullptr);
  EXPECT_THAT(complete_send(*to_client), StartsWith("HTTP/1.1 502 "));
  EXPECT_EQ(engine_->counters().retries_total.load(), 0u);
}

}  // namespace
}  // namespace ringgate::proxy
