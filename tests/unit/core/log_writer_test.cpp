#include "core/log_writer.hpp"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/worker_log.hpp"

namespace ringgate::core {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string drain_all(LineRing& ring) {
  std::string out;
  ring.drain([&](const char* data, size_t length) { out.append(data, length); });
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

size_t count_lines(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "ringgate-log-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

AccessEntry entry_for(uint64_t n) {
  AccessEntry e;
  e.time_unix_ms = n;
  e.method = "GET";
  e.url = "/orders";
  e.response_code = 200;
  return e;
}

TEST(LineRing, DrainsWhatWasPushedInOrder) {
  LineRing ring(128);
  ASSERT_TRUE(ring.push("one\n"));
  ASSERT_TRUE(ring.push("two\n"));
  EXPECT_EQ(ring.used(), 8u);
  EXPECT_EQ(drain_all(ring), "one\ntwo\n");
  EXPECT_EQ(ring.used(), 0u);
  EXPECT_EQ(drain_all(ring), "");
}

TEST(LineRing, RefusesALineThatDoesNotFitAndKeepsTheRest) {
  LineRing ring(64);
  ASSERT_TRUE(ring.push(std::string(40, 'a') + "\n"));
  EXPECT_FALSE(ring.push(std::string(30, 'b') + "\n"));
  EXPECT_EQ(drain_all(ring), std::string(40, 'a') + "\n");
  EXPECT_TRUE(ring.push(std::string(30, 'b') + "\n"));
}

TEST(LineRing, LinesThatWrapAroundComeOutWhole) {
  LineRing ring(128);
  std::string expected;
  std::string drained;
  for (int i = 0; i < 100; ++i) {
    const std::string line = "line " + std::to_string(i) + " " + std::string(i % 17, 'x') + "\n";
    ASSERT_TRUE(ring.push(line)) << i;
    expected += line;
    if (i % 3 == 2) drained += drain_all(ring);
  }
  drained += drain_all(ring);
  EXPECT_EQ(drained, expected);
}

// One producer and one consumer thread: every line arrives whole, in order,
// or is refused — never torn.
TEST(LineRing, ConcurrentProducerAndConsumerNeverTearALine) {
  LineRing ring(4096);
  constexpr int kLines = 200000;
  int refused = 0;
  std::atomic<bool> finished{false};
  std::thread producer([&] {
    char line[64];
    for (int i = 0; i < kLines; ++i) {
      const int n = std::snprintf(line, sizeof line, "%d %s\n", i, i % 2 ? "odd" : "even");
      if (!ring.push(std::string_view(line, static_cast<size_t>(n)))) ++refused;
    }
    finished.store(true, std::memory_order_release);
  });
  std::string received;
  while (!finished.load(std::memory_order_acquire)) {
    received += drain_all(ring);
    std::this_thread::yield();
  }
  producer.join();
  received += drain_all(ring);

  std::istringstream lines(received);
  std::string line;
  int last = -1;
  size_t count = 0;
  while (std::getline(lines, line)) {
    int n = -1;
    char kind[8] = {};
    ASSERT_EQ(std::sscanf(line.c_str(), "%d %7s", &n, kind), 2) << line;
    ASSERT_GT(n, last);
    ASSERT_STREQ(kind, n % 2 ? "odd" : "even");
    last = n;
    ++count;
  }
  EXPECT_EQ(count + static_cast<size_t>(refused), static_cast<size_t>(kLines));
}

TEST(WorkerLog, AccessLineIsDroppedAndCountedWhenTheBufferIsFull) {
  TempDir dir;
  LogWriter::Options options;
  options.access_ring_bytes = 1024;
  LogWriter writer(1, options);
  std::string error;
  ASSERT_TRUE(writer.open_access_log(dir.file("access.log"), error)) << error;
  WorkerCounters counters;
  WorkerLog log(writer.buffers(0), nullptr, counters);

  for (uint64_t i = 0; i < 100; ++i) log.access(entry_for(i));

  EXPECT_GT(counters.access_log_dropped.load(), 0u);
  EXPECT_EQ(counters.access_log_lines.load() + counters.access_log_dropped.load(), 100u);
  writer.drain();
  EXPECT_EQ(count_lines(read_file(dir.file("access.log"))), counters.access_log_lines.load());
}

TEST(WorkerLog, ErrorLineIsDroppedAndCountedWhenTheBufferIsFull) {
  LogWriter::Options options;
  options.error_ring_bytes = 256;
  LogWriter writer(1, options);
  WorkerCounters counters;
  WorkerLog log(writer.buffers(0), nullptr, counters);

  for (int i = 0; i < 20; ++i) log.warn("backend %d failed", i);  // distinct: not rate-limited

  EXPECT_GT(counters.error_log_dropped.load(), 0u);
  EXPECT_EQ(counters.error_log_suppressed.load(), 0u);
}

TEST(WorkerLog, RepeatedErrorLineIsCountedAsSuppressed) {
  LogWriter writer(1, LogWriter::Options{});
  WorkerCounters counters;
  WorkerLog log(writer.buffers(0), nullptr, counters);

  log.warn("connect to %s failed", "127.0.0.1:1");
  log.warn("connect to %s failed", "127.0.0.1:1");

  EXPECT_EQ(counters.error_log_suppressed.load(), 1u);
  EXPECT_EQ(count_lines(drain_all(writer.buffers(0).errors)), 1u);
}

TEST(LogWriter, ErrorLinesGoToTheErrorDescriptor) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  LogWriter::Options options;
  options.error_fd = pipe_fds[1];
  LogWriter writer(2, options);
  WorkerCounters counters;
  WorkerLog log(writer.buffers(1), nullptr, counters);

  log.warn("pool %s: connect failed", "p");
  writer.drain();

  char buffer[256] = {};
  const ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer - 1);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  ASSERT_GT(n, 0);
  EXPECT_THAT(std::string(buffer, static_cast<size_t>(n)),
              ::testing::MatchesRegex("[0-9T:.-]+Z warn pool p: connect failed\n"));
}

TEST(LogWriter, AccessLogFileIsCreatedForAppendingWithMode0640) {
  TempDir dir;
  const std::string path = dir.file("access.log");
  { std::ofstream(path) << "earlier\n"; }
  ::chmod(path.c_str(), 0600);
  const std::string fresh = dir.file("fresh.log");
  const mode_t old_mask = ::umask(0);
  LogWriter writer(1, LogWriter::Options{});
  std::string error;
  ASSERT_TRUE(writer.open_access_log(fresh, error)) << error;
  ::umask(old_mask);
  struct stat info {};
  ASSERT_EQ(::stat(fresh.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0640u);

  ASSERT_TRUE(writer.open_access_log(path, error)) << error;
  ASSERT_TRUE(writer.buffers(0).access.push("later\n"));
  writer.drain();
  EXPECT_EQ(read_file(path), "earlier\nlater\n");
}

TEST(LogWriter, ReopenAfterARenameWritesToANewFile) {
  TempDir dir;
  const std::string path = dir.file("access.log");
  LogWriter writer(1, LogWriter::Options{});
  std::string error;
  ASSERT_TRUE(writer.open_access_log(path, error)) << error;
  ASSERT_TRUE(writer.buffers(0).access.push("before\n"));
  writer.drain();

  ASSERT_EQ(::rename(path.c_str(), dir.file("access.log.1").c_str()), 0);
  ASSERT_TRUE(writer.buffers(0).access.push("between\n"));
  writer.drain();
  ASSERT_TRUE(writer.reopen_access_log(error)) << error;
  ASSERT_TRUE(writer.buffers(0).access.push("after\n"));
  writer.drain();

  EXPECT_EQ(read_file(dir.file("access.log.1")), "before\nbetween\n");
  EXPECT_EQ(read_file(path), "after\n");
}

TEST(LogWriter, OpeningAnUnwritablePathFailsAndKeepsTheCurrentFile) {
  TempDir dir;
  const std::string path = dir.file("access.log");
  LogWriter writer(1, LogWriter::Options{});
  std::string error;
  ASSERT_TRUE(writer.open_access_log(path, error)) << error;

  EXPECT_FALSE(writer.open_access_log(dir.file("missing/access.log"), error));
  EXPECT_THAT(error, HasSubstr("No such file or directory"));
  EXPECT_EQ(writer.access_log_path(), path);
  ASSERT_TRUE(writer.buffers(0).access.push("still here\n"));
  writer.drain();
  EXPECT_EQ(read_file(path), "still here\n");
}

TEST(LogWriter, WithTheAccessLogOffAccessLinesAreDiscarded) {
  LogWriter writer(1, LogWriter::Options{});
  ASSERT_TRUE(writer.buffers(0).access.push("nobody reads this\n"));
  writer.drain();
  EXPECT_EQ(writer.buffers(0).access.used(), 0u);
}

TEST(LogWriter, StopWritesWhatIsStillBuffered) {
  TempDir dir;
  const std::string path = dir.file("access.log");
  LogWriter::Options options;
  options.flush_interval_ms = 60000;  // only stop() can have written them
  LogWriter writer(2, options);
  std::string error;
  ASSERT_TRUE(writer.open_access_log(path, error)) << error;
  writer.start();
  ASSERT_TRUE(writer.buffers(0).access.push("from worker 0\n"));
  ASSERT_TRUE(writer.buffers(1).access.push("from worker 1\n"));
  writer.stop();
  const std::string text = read_file(path);
  EXPECT_THAT(text, HasSubstr("from worker 0\n"));
  EXPECT_THAT(text, HasSubstr("from worker 1\n"));
}

}  // namespace
}  // namespace ringgate::core
