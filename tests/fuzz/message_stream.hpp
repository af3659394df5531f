// The driver behind the http_request and http_response targets: one HTTP/1.x
// byte stream fed to a MessageParser twice, all at once and in pieces whose
// sizes come from the fuzz input, checking the contract of feed() and
// finish() (src/http/parser.hpp) on every call and that both runs observe the
// same messages.
//
// Input layout: [options] [n] [n piece sizes] [the byte stream]
//   options bit 0: tiny limits (every limit reachable by short inputs)
//           bit 1: expect_no_body(true) (responses)
//           bit 2: call finish() when the stream ends (the peer closed)
//           bit 3: feed again after kMessageComplete without next_message()
//   piece sizes: how many new bytes each read delivers, used in a cycle; 0
//           is a read of no new bytes. No sizes (or only zeros): all at once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "http/parser.hpp"

namespace ringgate::fuzz {

struct StreamPlan {
  http::MessageKind kind = http::MessageKind::kRequest;
  http::ParserLimits limits;
  bool expect_no_body = false;
  bool finish_at_end = false;
  bool skip_next_message = false;
  std::vector<uint8_t> pieces;
  std::string_view stream;
};

StreamPlan read_plan(http::MessageKind kind, Input& input);

// Runs the plan's stream all at once and in pieces on one parser (reset()
// between the runs) and aborts on a broken invariant or when the two runs
// differ. Then checks that reset() leaves the parser ready for a new
// connection.
void check_stream(const StreamPlan& plan);

}  // namespace ringgate::fuzz
