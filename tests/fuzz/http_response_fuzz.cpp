// The response parser on arbitrary byte streams split at arbitrary points,
// with and without expect_no_body (message_stream.hpp describes the input).
#include <cstddef>
#include <cstdint>

#include "message_stream.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ringgate::fuzz::Input input(data, size);
  ringgate::fuzz::check_stream(
      ringgate::fuzz::read_plan(ringgate::http::MessageKind::kResponse, input));
  return 0;
}
