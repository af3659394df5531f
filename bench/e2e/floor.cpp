// floor: the least a TCP proxy can do, the yardstick for ringgate's CPU per
// request (bench/README.md, "The floor"). One thread, one io_uring: accepts
// clients on 127.0.0.1, opens one plain TCP connection to the backend for each,
// and copies bytes both ways until either side ends. No HTTP, no TLS, no pool.
//
//   floor --listen PORT --backend HOST:PORT [--cpu N]
//
// Prints "listening on PORT" (the kernel's choice when PORT is 0) on stdout once
// it accepts connections, then runs until killed. Exits 2 on bad arguments and
// 1 when it cannot set up.
//
// What it does per byte is what a fast io_uring proxy does: multishot accept,
// multishot recv into a small provided-buffer ring, the buffer sent as it is and
// handed back to the ring when its send completes, one io_uring_submit_and_wait
// per loop turn on a single-issuer ring that runs task work only then.
#include <liburing.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr unsigned kSqEntries = 1024;
constexpr unsigned kCqEntries = 8192;
// A small ring, so the same few buffers stay warm in the cache; running out is
// backpressure (-ENOBUFS), not an error. A power of two, as the ring needs.
constexpr unsigned kBufferCount = 256;
constexpr unsigned kBufferSize = 16 * 1024;
constexpr int kBufferGroup = 0;

[[noreturn]] void fail(const char* what, int error) {
  std::fprintf(stderr, "floor: %s: %s\n", what, std::strerror(error));
  std::exit(1);
}

enum class Op : uint8_t { kAccept, kConnect, kRecv, kSend, kCancel };
enum class Side : uint8_t { kClient, kBackend };  // the socket a flow reads from

constexpr Side other(Side side) { return side == Side::kClient ? Side::kBackend : Side::kClient; }

// user_data: op (8 bits) | side (8 bits) | generation (16 bits) | slot (32 bits).
struct Tag {
  Op op;
  Side side;
  uint16_t generation;
  uint32_t slot;
};

constexpr uint64_t encode(Tag tag) {
  return uint64_t(tag.op) << 56 | uint64_t(tag.side) << 48 | uint64_t(tag.generation) << 32 |
         tag.slot;
}

constexpr Tag decode(uint64_t data) {
  return {Op(data >> 56), Side((data >> 48) & 0xff), uint16_t(data >> 32), uint32_t(data)};
}

static_assert(decode(encode({Op::kSend, Side::kBackend, 7, 42})).slot == 42);

// Buffers received on one side and not yet sent to the other, in order. Holds
// at most every buffer of the ring, so it can never overflow.
class ChunkQueue {
 public:
  struct Chunk {
    uint16_t buffer;
    uint32_t length;
  };
  bool empty() const { return count_ == 0; }
  Chunk& front() { return chunks_[head_]; }
  void push(Chunk chunk) { chunks_[(head_ + count_++) % kBufferCount] = chunk; }
  Chunk pop() {
    const Chunk chunk = chunks_[head_];
    head_ = (head_ + 1) % kBufferCount;
    --count_;
    return chunk;
  }

 private:
  std::array<Chunk, kBufferCount> chunks_{};
  unsigned head_ = 0;
  unsigned count_ = 0;
};

// Where the reading half of a flow stands.
enum class Reading : uint8_t {
  kParked,      // no recv in the kernel: not yet armed, or its data is still being sent
  kArmed,       // a multishot recv is in the kernel
  kCancelling,  // armed, and cancelled because the other side does not keep up
  kStarved,     // it ended on -ENOBUFS; parked again once buffers return
  kEnded,       // the peer finished sending
};

// One direction of a session: what is read from `fd` goes to the other side.
// At most one send is in flight per direction, so bytes stay in order.
struct Flow {
  int fd = -1;
  Reading reading = Reading::kParked;
  bool send_in_flight = false;
  uint32_t sent = 0;  // bytes of the front chunk already sent
  ChunkQueue queue;
};

enum class State : uint8_t { kFree, kConnecting, kOpen, kClosing };

// A client and its backend connection. Freed only once no operation of it is
// in the kernel any more (ops_in_flight == 0).
struct Session {
  State state = State::kFree;
  uint16_t generation = 0;
  unsigned ops_in_flight = 0;
  std::array<Flow, 2> flows;
  Flow& flow(Side side) { return flows[static_cast<size_t>(side)]; }
};

class Forwarder {
 public:
  Forwarder(int listen_fd, const sockaddr_storage& backend, socklen_t backend_length)
      : listen_fd_(listen_fd), backend_(backend), backend_length_(backend_length) {}

  // Sets up the ring and the buffer ring; exits the process when it cannot.
  void setup();
  // The loop: one submit-and-wait per turn, then every completion. Never returns.
  [[noreturn]] void run();

 private:
  io_uring_sqe* next_sqe();
  void arm_accept();
  void arm_recv(uint32_t slot, Side side);
  void send_front(uint32_t slot, Side side);
  void cancel_recv(uint32_t slot, Side side);
  void dispatch(const io_uring_cqe& cqe);
  void on_accept(int result, unsigned flags);
  void on_connect(uint32_t slot, int result);
  void on_recv(uint32_t slot, Side side, int result, unsigned flags);
  void on_send(uint32_t slot, Side side, int result);
  void resume_recv(uint32_t slot, Side side);
  void resume_starved();
  void begin_close(uint32_t slot);
  void free_if_done(uint32_t slot);
  uint32_t allocate_session();
  std::byte* buffer(uint16_t id) { return buffers_.get() + size_t(id) * kBufferSize; }
  void return_buffer(uint16_t id);
  void publish_buffers();
  Tag tag(Op op, uint32_t slot, Side side) const {
    return {op, side, sessions_[slot]->generation, slot};
  }

  int listen_fd_;
  sockaddr_storage backend_;
  socklen_t backend_length_;
  io_uring ring_{};
  io_uring_buf_ring* buffer_ring_ = nullptr;
  std::unique_ptr<std::byte[]> buffers_;
  unsigned free_buffers_ = 0;  // in the ring, published or not
  unsigned unpublished_ = 0;   // returned this turn, not yet visible to the kernel
  std::vector<std::unique_ptr<Session>> sessions_;
  std::vector<uint32_t> free_slots_;
  std::vector<Tag> starved_;  // flows waiting for buffers (kRecv tags)
};

void Forwarder::setup() {
  io_uring_params params{};
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
                 IORING_SETUP_COOP_TASKRUN | IORING_SETUP_CQSIZE;
  params.cq_entries = kCqEntries;
  int rc = io_uring_queue_init_params(kSqEntries, &ring_, &params);
  if (rc < 0) fail("io_uring_queue_init_params", -rc);
  // Registering the ring's fd saves a file lookup on every io_uring_enter.
  rc = io_uring_register_ring_fd(&ring_);
  if (rc < 0) fail("io_uring_register_ring_fd", -rc);
  buffers_ = std::make_unique<std::byte[]>(size_t(kBufferCount) * kBufferSize);
  buffer_ring_ = io_uring_setup_buf_ring(&ring_, kBufferCount, kBufferGroup, 0, &rc);
  if (buffer_ring_ == nullptr) fail("io_uring_setup_buf_ring", -rc);
  for (unsigned id = 0; id < kBufferCount; ++id) return_buffer(static_cast<uint16_t>(id));
  publish_buffers();
  arm_accept();
}

[[noreturn]] void Forwarder::run() {
  for (;;) {
    const int rc = io_uring_submit_and_wait(&ring_, 1);
    if (rc < 0 && rc != -EINTR) fail("io_uring_submit_and_wait", -rc);
    unsigned head;
    unsigned seen = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      dispatch(*cqe);
      ++seen;
    }
    io_uring_cq_advance(&ring_, seen);
    publish_buffers();
    resume_starved();
  }
}

// Flows that ran dry of buffers go again once some are back in the ring: as
// many as there are free buffers, oldest first, so they do not all wake up to
// fight over a few buffers and fail again.
void Forwarder::resume_starved() {
  size_t woken = 0;
  while (woken < starved_.size() && woken < free_buffers_) {
    const Tag t = starved_[woken++];
    Session& session = *sessions_[t.slot];
    Flow& flow = session.flow(t.side);
    if (session.generation != t.generation || flow.reading != Reading::kStarved) continue;
    flow.reading = Reading::kParked;
    resume_recv(t.slot, t.side);
  }
  starved_.erase(starved_.begin(), starved_.begin() + static_cast<std::ptrdiff_t>(woken));
}

// A full submission queue means: submit what is there, then take a slot.
io_uring_sqe* Forwarder::next_sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  while (sqe == nullptr) {
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
  }
  return sqe;
}

void Forwarder::arm_accept() {
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_multishot_accept(sqe, listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  io_uring_sqe_set_data64(sqe, encode({Op::kAccept, Side::kClient, 0, 0}));
}

void Forwarder::arm_recv(uint32_t slot, Side side) {
  Session& session = *sessions_[slot];
  Flow& flow = session.flow(side);
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_recv_multishot(sqe, flow.fd, nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = kBufferGroup;
  io_uring_sqe_set_data64(sqe, encode(tag(Op::kRecv, slot, side)));
  flow.reading = Reading::kArmed;
  ++session.ops_in_flight;
}

// Sends what is left of the front chunk of `side`'s queue to the other side.
void Forwarder::send_front(uint32_t slot, Side side) {
  Session& session = *sessions_[slot];
  Flow& flow = session.flow(side);
  const ChunkQueue::Chunk& chunk = flow.queue.front();
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_send(sqe, session.flow(other(side)).fd, buffer(chunk.buffer) + flow.sent,
                     chunk.length - flow.sent, MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, encode(tag(Op::kSend, slot, side)));
  flow.send_in_flight = true;
  ++session.ops_in_flight;
}

void Forwarder::cancel_recv(uint32_t slot, Side side) {
  Session& session = *sessions_[slot];
  Flow& flow = session.flow(side);
  if (flow.reading != Reading::kArmed) return;
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_cancel64(sqe, encode(tag(Op::kRecv, slot, side)), 0);
  io_uring_sqe_set_data64(sqe, encode(tag(Op::kCancel, slot, side)));
  flow.reading = Reading::kCancelling;
  ++session.ops_in_flight;
}

void Forwarder::dispatch(const io_uring_cqe& cqe) {
  const Tag t = decode(cqe.user_data);
  switch (t.op) {
    case Op::kAccept:
      on_accept(cqe.res, cqe.flags);
      return;
    case Op::kConnect:
      on_connect(t.slot, cqe.res);
      return;
    case Op::kRecv:
      on_recv(t.slot, t.side, cqe.res, cqe.flags);
      return;
    case Op::kSend:
      on_send(t.slot, t.side, cqe.res);
      return;
    case Op::kCancel:
      --sessions_[t.slot]->ops_in_flight;
      free_if_done(t.slot);
      return;
  }
}

void Forwarder::on_accept(int result, unsigned flags) {
  if (!(flags & IORING_CQE_F_MORE)) arm_accept();
  if (result < 0) return;  // e.g. out of descriptors: the client is dropped
  const int one = 1;
  setsockopt(result, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const int backend = socket(backend_.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (backend < 0) {
    close(result);
    return;
  }
  setsockopt(backend, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const uint32_t slot = allocate_session();
  Session& session = *sessions_[slot];
  session.state = State::kConnecting;
  session.flow(Side::kClient).fd = result;
  session.flow(Side::kBackend).fd = backend;
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_connect(sqe, backend, reinterpret_cast<const sockaddr*>(&backend_),
                        backend_length_);
  io_uring_sqe_set_data64(sqe, encode(tag(Op::kConnect, slot, Side::kBackend)));
  ++session.ops_in_flight;
}

void Forwarder::on_connect(uint32_t slot, int result) {
  Session& session = *sessions_[slot];
  --session.ops_in_flight;
  if (session.state != State::kConnecting) return free_if_done(slot);
  if (result < 0) return begin_close(slot);
  session.state = State::kOpen;
  arm_recv(slot, Side::kClient);
  arm_recv(slot, Side::kBackend);
}

void Forwarder::on_recv(uint32_t slot, Side side, int result, unsigned flags) {
  Session& session = *sessions_[slot];
  Flow& flow = session.flow(side);
  if (!(flags & IORING_CQE_F_MORE)) {
    flow.reading = Reading::kParked;
    --session.ops_in_flight;
  }
  const bool has_buffer = flags & IORING_CQE_F_BUFFER;
  const auto id = static_cast<uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
  if (has_buffer) --free_buffers_;
  if (session.state != State::kOpen || result <= 0) {
    if (has_buffer) return_buffer(id);
    if (session.state != State::kOpen) return free_if_done(slot);
  }
  if (result > 0) {
    flow.queue.push({id, static_cast<uint32_t>(result)});
    if (!flow.send_in_flight) {
      send_front(slot, side);
    } else {
      // The other side is not keeping up: stop taking buffers for it.
      cancel_recv(slot, side);
    }
  } else if (result == 0) {
    flow.reading = Reading::kEnded;
    if (flow.queue.empty()) return begin_close(slot);
  } else if (result == -ENOBUFS) {
    flow.reading = Reading::kStarved;
    starved_.push_back(tag(Op::kRecv, slot, side));
  } else if (result != -ECANCELED) {
    return begin_close(slot);
  }
  resume_recv(slot, side);
}

void Forwarder::on_send(uint32_t slot, Side side, int result) {
  Session& session = *sessions_[slot];
  Flow& flow = session.flow(side);
  --session.ops_in_flight;
  flow.send_in_flight = false;
  if (session.state != State::kOpen) return free_if_done(slot);
  if (result < 0) return begin_close(slot);
  flow.sent += static_cast<uint32_t>(result);
  if (flow.sent < flow.queue.front().length) return send_front(slot, side);  // short send
  return_buffer(flow.queue.pop().buffer);
  flow.sent = 0;
  if (!flow.queue.empty()) return send_front(slot, side);
  if (flow.reading == Reading::kEnded) return begin_close(slot);
  resume_recv(slot, side);
}

// Re-arms the flow's recv when nothing holds it back: its previous data is
// sent, it has not hit EOF, and it is not waiting for buffers.
void Forwarder::resume_recv(uint32_t slot, Side side) {
  Session& session = *sessions_[slot];
  Flow& flow = session.flow(side);
  if (session.state != State::kOpen || flow.reading != Reading::kParked || flow.send_in_flight ||
      !flow.queue.empty()) {
    return;
  }
  arm_recv(slot, side);
}

// Either side ended or failed: cancel everything still in the kernel on both
// sockets; the session is freed when the last completion arrives.
void Forwarder::begin_close(uint32_t slot) {
  Session& session = *sessions_[slot];
  if (session.state == State::kClosing) return;
  session.state = State::kClosing;
  for (const Side side : {Side::kClient, Side::kBackend}) {
    io_uring_sqe* sqe = next_sqe();
    io_uring_prep_cancel_fd(sqe, session.flow(side).fd, IORING_ASYNC_CANCEL_ALL);
    io_uring_sqe_set_data64(sqe, encode(tag(Op::kCancel, slot, side)));
    ++session.ops_in_flight;
  }
}

void Forwarder::free_if_done(uint32_t slot) {
  Session& session = *sessions_[slot];
  if (session.state != State::kClosing || session.ops_in_flight != 0) return;
  for (Flow& flow : session.flows) {
    while (!flow.queue.empty()) return_buffer(flow.queue.pop().buffer);
    close(flow.fd);
    flow = Flow{};
  }
  session.state = State::kFree;
  ++session.generation;
  free_slots_.push_back(slot);
}

uint32_t Forwarder::allocate_session() {
  if (!free_slots_.empty()) {
    const uint32_t slot = free_slots_.back();
    free_slots_.pop_back();
    return slot;
  }
  sessions_.push_back(std::make_unique<Session>());
  return static_cast<uint32_t>(sessions_.size() - 1);
}

// Queues buffer `id` for the ring; the kernel sees it at the next publish.
void Forwarder::return_buffer(uint16_t id) {
  io_uring_buf_ring_add(buffer_ring_, buffer(id), kBufferSize, id,
                        io_uring_buf_ring_mask(kBufferCount), static_cast<int>(unpublished_));
  ++unpublished_;
  ++free_buffers_;
}

// One tail update per loop turn for every buffer returned during it.
void Forwarder::publish_buffers() {
  if (unpublished_ == 0) return;
  io_uring_buf_ring_advance(buffer_ring_, static_cast<int>(unpublished_));
  unpublished_ = 0;
}

struct Options {
  unsigned listen_port = 0;
  std::string backend_host;
  std::string backend_port;
  int cpu = -1;
};

bool parse_number(const char* text, long max, long& value) {
  char* end = nullptr;
  errno = 0;
  value = std::strtol(text, &end, 10);
  return errno == 0 && end != text && *end == '\0' && value >= 0 && value <= max;
}

bool parse_options(int argc, char** argv, Options& options) {
  bool have_listen = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string name = argv[i];
    const char* value = argv[i + 1];
    long number = 0;
    if (name == "--listen" && parse_number(value, 65535, number)) {
      options.listen_port = static_cast<unsigned>(number);
      have_listen = true;
    } else if (name == "--backend") {
      const std::string text = value;
      const size_t colon = text.rfind(':');
      if (colon == std::string::npos || colon == 0) return false;
      options.backend_host = text.substr(0, colon);
      options.backend_port = text.substr(colon + 1);
    } else if (name == "--cpu" && parse_number(value, CPU_SETSIZE - 1, number)) {
      options.cpu = static_cast<int>(number);
    } else {
      return false;
    }
  }
  return argc % 2 == 1 && have_listen && !options.backend_host.empty();
}

int listen_on(unsigned port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket", errno);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) fail("bind", errno);
  if (listen(fd, SOMAXCONN) != 0) fail("listen", errno);
  return fd;
}

unsigned local_port(int fd) {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  return ntohs(address.sin_port);
}

// Lifts the soft descriptor limit to the hard one: every session needs two.
void raise_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse_options(argc, argv, options)) {
    std::fprintf(stderr, "usage: floor --listen PORT --backend HOST:PORT [--cpu N]\n");
    return 2;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc =
      getaddrinfo(options.backend_host.c_str(), options.backend_port.c_str(), &hints, &found);
  if (rc != 0) {
    std::fprintf(stderr, "floor: backend %s:%s: %s\n", options.backend_host.c_str(),
                 options.backend_port.c_str(), gai_strerror(rc));
    return 2;
  }
  sockaddr_storage backend{};
  std::memcpy(&backend, found->ai_addr, found->ai_addrlen);
  const socklen_t backend_length = found->ai_addrlen;
  freeaddrinfo(found);
  if (options.cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(options.cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) fail("sched_setaffinity", errno);
  }
  signal(SIGPIPE, SIG_IGN);
  raise_fd_limit();
  const int listen_fd = listen_on(options.listen_port);
  Forwarder forwarder(listen_fd, backend, backend_length);
  forwarder.setup();
  std::printf("listening on %u\n", local_port(listen_fd));
  std::fflush(stdout);
  forwarder.run();
}
