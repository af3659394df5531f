#include "fleet/etcd_watch.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <utility>

#include "fleet/curl_request.hpp"
#include "fleet/etcd_json.hpp"

namespace ringgate::fleet {
namespace {

using SteadyClock = std::chrono::steady_clock;

// A watch message holds one revision's events at most; anything this large
// without a message boundary is not etcd.
constexpr size_t kMaxPendingBytes = 64 * 1024 * 1024;
constexpr size_t kMaxErrorBodyBytes = 4096;

short poll_events(int what) {
  switch (what) {
    case CURL_POLL_IN:
      return POLLIN;
    case CURL_POLL_OUT:
      return POLLOUT;
    case CURL_POLL_INOUT:
      return POLLIN | POLLOUT;
    default:
      return 0;
  }
}

}  // namespace

EtcdWatch::EtcdWatch(EtcdOptions options) : options_(std::move(options)) {
  ensure_curl_initialized();
  multi_ = curl_multi_init();
  headers_ = json_headers();
  if (multi_ != nullptr) {
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &EtcdWatch::on_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &EtcdWatch::on_timer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  }
}

EtcdWatch::~EtcdWatch() {
  release_handle();
  if (multi_ != nullptr) curl_multi_cleanup(multi_);
  curl_slist_free_all(headers_);
}

void EtcdWatch::start(std::string_view prefix, int64_t start_revision) {
  release_handle();
  buffer_.clear();
  error_body_.clear();
  end_reason_.clear();
  batch_ = Batch{};
  if (options_.endpoints.empty()) return end("no etcd endpoints configured");
  if (multi_ == nullptr || headers_ == nullptr) return end("libcurl could not allocate a handle");
  endpoint_ = options_.endpoints[turn_++ % options_.endpoints.size()];
  easy_ = curl_easy_init();
  if (easy_ == nullptr) return end("libcurl could not allocate a handle");
  std::string problem = configure_transfer(easy_, options_, headers_);
  if (!problem.empty()) return end(problem);
  std::string key = prefix.empty() ? std::string(1, '\0') : std::string(prefix);
  std::string body = watch_request_json(key, prefix_range_end(prefix), start_revision);
  std::string url = endpoint_url(endpoint_, "/v3/watch");
  error_buffer_[0] = '\0';
  curl_easy_setopt(easy_, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(easy_, CURLOPT_COPYPOSTFIELDS, body.c_str());
  curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &EtcdWatch::on_data);
  curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, error_buffer_);
  if (curl_multi_add_handle(multi_, easy_) != CURLM_OK) end("libcurl refused the watch transfer");
}

void EtcdWatch::stop() { release_handle(); }

void EtcdWatch::release_handle() {
  if (easy_ == nullptr) return;
  // Removing the handle makes curl drop its sockets (through on_socket).
  curl_multi_remove_handle(multi_, easy_);
  curl_easy_cleanup(easy_);
  easy_ = nullptr;
  sockets_.clear();
  timer_due_.reset();
}

void EtcdWatch::end(std::string reason) {
  release_handle();
  batch_.ended = reason.empty() ? "the watch stream ended" : std::move(reason);
}

void EtcdWatch::collect(std::vector<pollfd>& fds) const {
  for (const auto& [fd, events] : sockets_) fds.push_back(pollfd{fd, events, 0});
}

int EtcdWatch::next_timeout_ms() const {
  if (!timer_due_) return -1;
  auto left = std::chrono::ceil<std::chrono::milliseconds>(*timer_due_ - SteadyClock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

void EtcdWatch::handle(const pollfd& ready) {
  if (easy_ == nullptr || !owns(ready.fd) || ready.revents == 0) return;
  int mask = 0;
  if (ready.revents & (POLLIN | POLLHUP)) mask |= CURL_CSELECT_IN;
  if (ready.revents & POLLOUT) mask |= CURL_CSELECT_OUT;
  if (ready.revents & (POLLERR | POLLNVAL)) mask |= CURL_CSELECT_ERR;
  int running_handles = 0;
  curl_multi_socket_action(multi_, ready.fd, mask, &running_handles);
  reap();
}

void EtcdWatch::on_timeout() {
  if (easy_ == nullptr || !timer_due_ || SteadyClock::now() < *timer_due_) return;
  timer_due_.reset();
  int running_handles = 0;
  curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running_handles);
  reap();
}

EtcdWatch::Batch EtcdWatch::take() { return std::exchange(batch_, Batch{}); }

void EtcdWatch::reap() {
  int queued = 0;
  while (CURLMsg* message = curl_multi_info_read(multi_, &queued)) {
    if (message->msg != CURLMSG_DONE || message->easy_handle != easy_) continue;
    CURLcode rc = message->data.result;
    long status = 0;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
    std::string reason;
    if (!end_reason_.empty()) {
      reason = end_reason_;
    } else if (status != 0 && status != 200) {
      reason = "HTTP " + std::to_string(status) + ": " + parse_gateway_error(error_body_).message;
    } else if (rc != CURLE_OK) {
      reason = error_buffer_[0] != '\0' ? error_buffer_ : curl_easy_strerror(rc);
    } else {
      reason = "the server closed the watch stream";
    }
    end(endpoint_ + ": " + reason);
    return;
  }
}

size_t EtcdWatch::on_data(char* data, size_t size, size_t count, void* self_pointer) {
  auto* self = static_cast<EtcdWatch*>(self_pointer);
  size_t bytes = size * count;
  long status = 0;
  curl_easy_getinfo(self->easy_, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) {
    // An error answer: keep its start for the reason, the transfer ends by itself.
    size_t room = kMaxErrorBodyBytes - std::min(kMaxErrorBodyBytes, self->error_body_.size());
    self->error_body_.append(data, std::min(room, bytes));
    return bytes;
  }
  if (self->buffer_.size() + bytes > kMaxPendingBytes) {
    self->end_reason_ = "a watch message larger than the limit";
    return 0;
  }
  self->buffer_.append(data, bytes);
  // Returning less than `bytes` aborts the transfer; reap() then ends the stream.
  return self->parse_buffer() ? bytes : 0;
}

bool EtcdWatch::parse_buffer() {
  size_t used = 0;
  for (;;) {
    size_t skipped = 0;
    std::string_view rest = std::string_view(buffer_).substr(used);
    size_t length = json_object_length(rest, skipped);
    if (length == std::string_view::npos) {
      end_reason_ = "the watch stream is not a sequence of JSON objects";
      return false;
    }
    if (length == 0) {
      used += skipped;
      break;
    }
    bool go_on = apply_message(rest.substr(skipped, length));
    used += skipped + length;
    if (!go_on) return false;
  }
  buffer_.erase(0, used);
  return true;
}

bool EtcdWatch::apply_message(std::string_view object) {
  WatchMessage message = parse_watch_message(object);
  if (!message.error.empty()) {
    end_reason_ = std::move(message.error);
    return false;
  }
  batch_.revision = std::max(batch_.revision, message.revision);
  if (message.created) batch_.established = true;
  for (auto& event : message.events) batch_.events.push_back(std::move(event));
  if (message.compact_revision > 0) batch_.compact_revision = message.compact_revision;
  if (message.canceled) {
    end_reason_ = "etcd canceled the watch" +
                  (message.cancel_reason.empty() ? std::string() : ": " + message.cancel_reason);
    return false;
  }
  return true;
}

int EtcdWatch::on_socket(CURL*, int fd, int what, void* self_pointer, void*) {
  auto* self = static_cast<EtcdWatch*>(self_pointer);
  if (what == CURL_POLL_REMOVE) {
    self->sockets_.erase(fd);
  } else {
    self->sockets_[fd] = poll_events(what);
  }
  return 0;
}

int EtcdWatch::on_timer(CURLM*, long timeout_ms, void* self_pointer) {
  auto* self = static_cast<EtcdWatch*>(self_pointer);
  if (timeout_ms < 0) {
    self->timer_due_.reset();
  } else {
    self->timer_due_ = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
  }
  return 0;
}

}  // namespace ringgate::fleet
