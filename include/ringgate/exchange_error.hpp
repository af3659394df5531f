// How the data path describes a failed exchange (DESIGN §8: result and error
// types): who failed, the status the client is answered with, and whether
// the request may be sent again. Every failure path of the proxy builds one
// of these, and the retry rule (http/retry.hpp) reads `retry_safe` instead of
// guessing from the status.
#pragma once

#include <cstdint>
#include <string_view>

namespace ringgate {

enum class ErrorSource : uint8_t {
  kClient,    // the client broke the protocol or went away
  kBackend,   // the backend refused, broke, closed or stayed silent
  kInternal,  // the gateway itself (a full submission queue, TLS setup)
};

constexpr std::string_view source_name(ErrorSource source) noexcept {
  switch (source) {
    case ErrorSource::kClient:
      return "client";
    case ErrorSource::kBackend:
      return "backend";
    case ErrorSource::kInternal:
      return "internal";
  }
  return "internal";
}

// Whether the backend can have acted on the request.
enum class Replay : uint8_t {
  kSafe,    // it cannot: nothing reached it, or it closed before answering a byte
  kUnsafe,  // it may have: it answered (badly), timed out, or we lost track
};

struct ExchangeError {
  ErrorSource source = ErrorSource::kInternal;
  int status = 502;  // what the client is answered with
  Replay replay = Replay::kUnsafe;
  std::string_view reason;  // for the log and the access log's lastError

  bool retry_safe() const noexcept { return replay == Replay::kSafe; }
};

// The backend failed: `status` 502 (or 504 for a timeout).
constexpr ExchangeError backend_error(std::string_view reason, Replay replay,
                                      int status = 502) noexcept {
  return {ErrorSource::kBackend, status, replay, reason};
}

// The gateway failed the exchange itself (answered 502).
constexpr ExchangeError internal_error(std::string_view reason, Replay replay) noexcept {
  return {ErrorSource::kInternal, 502, replay, reason};
}

}  // namespace ringgate
