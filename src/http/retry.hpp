// When a request may be sent to a backend a second time (DESIGN §4.7): the
// whole retry rule in one place, so the proxy asks instead of deciding.
#pragma once

#include <string_view>

#include "http/message.hpp"

namespace ringgate::http {

// RFC 9110 §9.2.2: methods whose repetition has the same effect as one call.
constexpr bool is_idempotent_method(std::string_view method) noexcept {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE" ||
         method == "PUT" || method == "DELETE";
}

// A request that can be replayed as it is: idempotent, and with no body (so
// all its bytes are in the rewritten head the proxy keeps). POST and PATCH
// never are, even without a body: the backend may have acted on them.
constexpr bool is_replayable_request(std::string_view method, BodyFraming framing) noexcept {
  return framing == BodyFraming::kNone && is_idempotent_method(method);
}

// The facts of one failed exchange the retry decision needs.
struct FailedExchange {
  bool replayable = false;         // is_replayable_request() of the request
  bool connection_reused = false;  // the backend connection came from the pool
  bool response_started = false;   // a response byte reached the client
  bool already_retried = false;
  // The backend cannot have acted on the request (ExchangeError::retry_safe):
  // it closed or reset before a byte of the response, or never got it.
  bool retry_safe = false;
};

// True when the request goes once more over a fresh connection: a pooled
// connection the backend had closed as it was reused, before any response.
constexpr bool may_retry(const FailedExchange& f) noexcept {
  return f.replayable && f.connection_reused && !f.response_started && !f.already_retried &&
         f.retry_safe;
}

}  // namespace ringgate::http
