// A watch over a key prefix (POST /v3/watch on etcd's v3 JSON gateway) as a
// non-blocking stream on the control thread's poll loop, through libcurl's
// multi socket API (so descriptors of any number work).
//
// The loop that drives it, each turn:
//   fds.clear(); watch.collect(fds);             // plus the loop's own
//   poll(fds, min(own timeout, watch.next_timeout_ms()));
//   for each ready pollfd p: if (watch.owns(p.fd)) watch.handle(p);
//   watch.on_timeout();                          // drives curl's timers
//   Batch b = watch.take();                      // events, progress, end
//
// A dead member is noticed by the connection ending (a killed process: at
// once) or by TCP keepalive (a vanished host: within about 5 s). A member that
// is alive but stuck, its kernel still answering keepalives, is not noticed:
// the caller's own deadline on progress notifications covers that.
//
// Not thread-safe: one thread uses a watch. No exception leaves it. Values in
// events may be secrets: nothing here logs.
#pragma once

#include <poll.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fleet/etcd_types.hpp"

// libcurl's handle types, as <curl/curl.h> declares them for C++.
typedef void CURL;
typedef void CURLM;
struct curl_slist;

namespace ringgate::fleet {

class EtcdWatch {
 public:
  using Event = WatchEvent;

  // What arrived since the last take().
  struct Batch {
    std::vector<Event> events;  // in revision order, as etcd sent them
    int64_t revision = 0;       // highest header revision seen (0: none)
    bool established = false;   // the server confirmed the watch ("created") in this batch
    // > 0: start_revision had been compacted away (this is the oldest revision
    // left); the stream has ended: read everything again, then start() from
    // the read's revision + 1.
    int64_t compact_revision = 0;
    // Non-empty: the stream is gone, and why (connection reset, HTTP error,
    // canceled by the server); start() again to go on.
    std::string ended;
  };

  explicit EtcdWatch(EtcdOptions options);
  // Stops the stream, if any.
  ~EtcdWatch();
  EtcdWatch(const EtcdWatch&) = delete;
  EtcdWatch& operator=(const EtcdWatch&) = delete;

  // (Re)starts watching every key under `prefix` (empty: every key) from
  // `start_revision` (events with revision >= it; 0: from now), on the next
  // endpoint in turn, so that a restart after a failure leaves a dead member
  // behind. Asks for progress notifications. Drops a stream already open (and
  // what it had not yet delivered). Non-blocking: the connection is made by
  // later on_timeout()/handle() calls. With no endpoints the batch reports
  // `ended` at once.
  void start(std::string_view prefix, int64_t start_revision);

  // Closes the stream, if any; what arrived and was not taken stays for take().
  void stop();

  // A stream is open or being opened.
  bool running() const { return easy_ != nullptr; }

  // Appends curl's descriptors with the events it waits for.
  void collect(std::vector<pollfd>& fds) const;

  // Whether `fd` is one of the descriptors collect() gave.
  bool owns(int fd) const { return sockets_.count(fd) != 0; }

  // Milliseconds until curl's timer is due (0: now; -1: no timer).
  int next_timeout_ms() const;

  // `ready` came back from poll for one of our descriptors; others are ignored.
  void handle(const pollfd& ready);

  // Runs curl's timer when it is due; harmless to call every loop turn.
  void on_timeout();

  // What arrived since the last take(), and resets it.
  Batch take();

  // The endpoint the current (or last) stream went to, "" before any start().
  const std::string& endpoint() const { return endpoint_; }

 private:
  static size_t on_data(char* data, size_t size, size_t count, void* self);
  static int on_socket(CURL* easy, int fd, int what, void* self, void* socket_data);
  static int on_timer(CURLM* multi, long timeout_ms, void* self);

  // Parses every complete JSON object in buffer_; false when the stream must
  // end (canceled, an error message, unparseable bytes).
  bool parse_buffer();
  bool apply_message(std::string_view object);
  // Collects finished transfers: records why the stream ended, frees it.
  void reap();
  void end(std::string reason);
  void release_handle();

  EtcdOptions options_;
  CURLM* multi_ = nullptr;
  CURL* easy_ = nullptr;
  curl_slist* headers_ = nullptr;
  char error_buffer_[256] = {};
  std::map<int, short> sockets_;  // descriptor → poll events curl wants
  std::optional<std::chrono::steady_clock::time_point> timer_due_;
  size_t turn_ = 0;
  std::string endpoint_;
  std::string buffer_;      // stream bytes not yet parsed
  std::string error_body_;  // a non-200 answer's body (bounded)
  std::string end_reason_;  // set by the parser when it ends the stream itself
  Batch batch_;
};

}  // namespace ringgate::fleet
