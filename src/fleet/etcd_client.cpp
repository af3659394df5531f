#include "fleet/etcd_client.hpp"

#include <utility>

#include "fleet/curl_request.hpp"
#include "fleet/etcd_json.hpp"

namespace ringgate::fleet {
namespace {

// Keeps a misbehaving peer from growing an answer without bound.
constexpr size_t kMaxAnswerBytes = 64 * 1024 * 1024;

size_t append_body(char* data, size_t size, size_t count, void* target) {
  auto* body = static_cast<std::string*>(target);
  size_t bytes = size * count;
  if (body->size() + bytes > kMaxAnswerBytes) return 0;
  body->append(data, bytes);
  return bytes;
}

}  // namespace

struct EtcdClient::Handle {
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string setup_error;
  char error_buffer[CURL_ERROR_SIZE] = {};

  ~Handle() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    curl_slist_free_all(headers);
  }
};

// One POST's outcome. `error` empty: `body` is a 200 answer.
struct EtcdClient::Reply {
  std::string error;
  std::string body;
  // The endpoint could not serve (transport failure, 5xx, unavailable):
  // another endpoint may.
  bool endpoint_failed = false;
};

EtcdClient::EtcdClient(EtcdOptions options)
    : options_(std::move(options)), handle_(std::make_unique<Handle>()) {
  ensure_curl_initialized();
  handle_->headers = json_headers();
  handle_->easy = curl_easy_init();
  if (handle_->easy == nullptr || handle_->headers == nullptr) {
    handle_->setup_error = "libcurl could not allocate a handle";
    return;
  }
  handle_->setup_error = configure_transfer(handle_->easy, options_, handle_->headers);
  curl_easy_setopt(handle_->easy, CURLOPT_TIMEOUT_MS, options_.request_timeout_ms);
  curl_easy_setopt(handle_->easy, CURLOPT_WRITEFUNCTION, &append_body);
  curl_easy_setopt(handle_->easy, CURLOPT_ERRORBUFFER, handle_->error_buffer);
}

EtcdClient::~EtcdClient() = default;

EtcdClient::Reply EtcdClient::post_once(size_t endpoint, std::string_view path,
                                        const std::string& body) {
  Reply reply;
  CURL* easy = handle_->easy;
  std::string url = endpoint_url(options_.endpoints[endpoint], path);
  handle_->error_buffer[0] = '\0';
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &reply.body);
  CURLcode rc = curl_easy_perform(easy);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, nullptr);
  if (rc != CURLE_OK) {
    reply.endpoint_failed = true;
    reply.error = handle_->error_buffer[0] != '\0' ? handle_->error_buffer : curl_easy_strerror(rc);
    return reply;
  }
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  if (status == 200) return reply;
  GatewayError etcd_error = parse_gateway_error(reply.body);
  reply.endpoint_failed = status >= 500 || etcd_error.code == kGrpcUnavailable;
  reply.error = "HTTP " + std::to_string(status) + ": " + etcd_error.message;
  reply.body.clear();
  return reply;
}

EtcdClient::Reply EtcdClient::post(std::string_view path, const std::string& body,
                                   AnswerCheck check) {
  if (!handle_->setup_error.empty()) return Reply{handle_->setup_error, {}, false};
  if (options_.endpoints.empty()) return Reply{"no etcd endpoints configured", {}, false};
  std::string failures;
  size_t count = options_.endpoints.size();
  for (size_t attempt = 0; attempt < count; ++attempt) {
    size_t endpoint = (preferred_ + attempt) % count;
    Reply reply = post_once(endpoint, path, body);
    if (reply.error.empty() && check != nullptr) {
      reply.error = check(reply.body);
      reply.endpoint_failed = !reply.error.empty();
    }
    if (!reply.endpoint_failed) {
      preferred_ = endpoint;
      if (!reply.error.empty()) reply.error = options_.endpoints[endpoint] + ": " + reply.error;
      return reply;
    }
    if (!failures.empty()) failures += "; ";
    failures += options_.endpoints[endpoint] + ": " + reply.error;
  }
  return Reply{"no etcd endpoint answered (" + failures + ")", {}, true};
}

RangeResult EtcdClient::range_prefix(std::string_view prefix) {
  // etcd wants a non-empty key: "\0" with range_end "\0" is every key.
  std::string key = prefix.empty() ? std::string(1, '\0') : std::string(prefix);
  Reply reply = post("/v3/kv/range", range_request_json(key, prefix_range_end(prefix)));
  if (!reply.error.empty()) return RangeResult{std::move(reply.error), 0, {}};
  return parse_range_response(reply.body);
}

RangeResult EtcdClient::range(std::string_view key) {
  Reply reply = post("/v3/kv/range", range_request_json(key, {}));
  if (!reply.error.empty()) return RangeResult{std::move(reply.error), 0, {}};
  return parse_range_response(reply.body);
}

TxnResult EtcdClient::txn(const std::vector<Compare>& compares,
                          const std::vector<Operation>& on_success,
                          const std::vector<Operation>& on_failure) {
  Reply reply = post("/v3/kv/txn", txn_request_json(compares, on_success, on_failure));
  if (!reply.error.empty()) return TxnResult{std::move(reply.error), false, 0};
  return parse_txn_response(reply.body);
}

std::string EtcdClient::check() {
  return post("/v3/maintenance/status", "{}", &parse_status_response).error;
}

}  // namespace ringgate::fleet
