// Header changes an API's policy asks for (<set-header>, and the
// Authorization header <authentication-basic> sets), applied to a head that
// is already serialized. Heads are small and edits rare, so editing the text
// costs less than threading edits through every head writer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ringgate::http {

enum class HeaderEditAction : uint8_t {
  kOverride,  // replace every instance (add if absent)
  kSkip,      // add only if absent
  kAppend,    // add after the existing instances
  kDelete,    // remove every instance
};

struct HeaderEdit {
  std::string name;
  HeaderEditAction action = HeaderEditAction::kOverride;
  std::vector<std::string> values;
};

// Applies `edits` in order to `head` ("start line\r\n" + "Name: value\r\n"… +
// "\r\n"), in place. Names compare case-insensitively; new lines go just
// before the blank line. A head without its blank line is left alone.
void apply_header_edits(std::string& head, const std::vector<HeaderEdit>& edits);

}  // namespace ringgate::http
