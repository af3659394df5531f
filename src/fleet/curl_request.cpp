#include "fleet/curl_request.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace ringgate::fleet {
namespace {

// Keepalive: first probe after 2 s idle, then every 1 s, 3 unanswered probes
// end the connection. curl 7.88 sets idle and interval but not the count.
constexpr long kKeepIdleSeconds = 2;
constexpr long kKeepIntervalSeconds = 1;
constexpr int kKeepProbes = 3;

int set_keepalive_count(void*, curl_socket_t fd, curlsocktype purpose) {
  if (purpose == CURLSOCKTYPE_IPCXN) {
    int probes = kKeepProbes;
    // Best effort: without it the kernel's default count (9) applies.
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof probes);
  }
  return CURL_SOCKOPT_OK;
}

}  // namespace

void ensure_curl_initialized() {
  // Once per process, whichever thread asks first (a function-local static).
  static const CURLcode kInitialized = curl_global_init(CURL_GLOBAL_DEFAULT);
  (void)kInitialized;
}

std::string configure_transfer(CURL* easy, const EtcdOptions& options, curl_slist* headers) {
  CURLcode rc = CURLE_OK;
  auto set = [&](CURLoption option, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(easy, option, value);
  };
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_NOPROXY, "*");
  set(CURLOPT_CONNECTTIMEOUT_MS, options.connect_timeout_ms);
  set(CURLOPT_TCP_KEEPALIVE, 1L);
  set(CURLOPT_TCP_KEEPIDLE, kKeepIdleSeconds);
  set(CURLOPT_TCP_KEEPINTVL, kKeepIntervalSeconds);
  set(CURLOPT_SOCKOPTFUNCTION, &set_keepalive_count);
  set(CURLOPT_HTTPHEADER, headers);
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_SSL_VERIFYPEER, 1L);
  set(CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options.ca_file.empty()) set(CURLOPT_CAINFO, options.ca_file.c_str());
  if (!options.client_certificate_pem.empty()) {
    // CURL_BLOB_COPY: curl keeps its own copy, so the PEM need not outlive the call.
    curl_blob cert{const_cast<char*>(options.client_certificate_pem.data()),
                   options.client_certificate_pem.size(), CURL_BLOB_COPY};
    curl_blob key{const_cast<char*>(options.client_key_pem.data()), options.client_key_pem.size(),
                  CURL_BLOB_COPY};
    set(CURLOPT_SSLCERTTYPE, "PEM");
    set(CURLOPT_SSLCERT_BLOB, &cert);
    set(CURLOPT_SSLKEYTYPE, "PEM");
    set(CURLOPT_SSLKEY_BLOB, &key);
  }
  if (rc != CURLE_OK) return std::string("libcurl option refused: ") + curl_easy_strerror(rc);
  return {};
}

curl_slist* json_headers() {
  curl_slist* list = curl_slist_append(nullptr, "Content-Type: application/json");
  if (list == nullptr) return nullptr;
  curl_slist* with_expect = curl_slist_append(list, "Expect:");
  if (with_expect == nullptr) {
    curl_slist_free_all(list);
    return nullptr;
  }
  return with_expect;
}

std::string endpoint_url(const std::string& endpoint, std::string_view path) {
  std::string url = endpoint;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += path;
  return url;
}

}  // namespace ringgate::fleet
