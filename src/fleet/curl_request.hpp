// What every libcurl transfer to etcd shares: process-wide initialisation,
// the transport options (TLS material, connect bound, keepalive, no signals)
// and the JSON request headers.
#pragma once

#include <curl/curl.h>

#include <string>

#include "fleet/etcd_types.hpp"

namespace ringgate::fleet {

// curl_global_init, once per process (later calls do nothing).
void ensure_curl_initialized();

// Sets on `easy` everything but the URL, body and callbacks: TLS (CA file,
// client certificate and key from memory, verification on), the connect
// timeout, TCP keepalive that notices a vanished peer within about 5 s, no
// signals, no proxies from the environment, and `headers` (from
// json_headers()). Returns "" or what could not be set.
std::string configure_transfer(CURL* easy, const EtcdOptions& options, curl_slist* headers);

// "Content-Type: application/json" and an empty "Expect:" (curl would
// otherwise wait for a 100 Continue on larger bodies). The caller frees the
// list with curl_slist_free_all after the last transfer that uses it.
curl_slist* json_headers();

// The URL of `path` ("/v3/kv/range") on `endpoint`, without a doubled slash.
std::string endpoint_url(const std::string& endpoint, std::string_view path);

}  // namespace ringgate::fleet
