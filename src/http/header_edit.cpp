#include "http/header_edit.hpp"

#include <strings.h>

#include <string_view>

namespace ringgate::http {
namespace {

bool line_has_name(std::string_view line, std::string_view name) {
  return line.size() > name.size() && line[name.size()] == ':' &&
         strncasecmp(line.data(), name.data(), name.size()) == 0;
}

// Removes every header line named `name`; returns how many there were.
size_t remove_lines(std::string& head, std::string_view name) {
  size_t removed = 0;
  size_t pos = head.find("\r\n");  // skip the start line
  while (pos != std::string::npos) {
    const size_t start = pos + 2;
    const size_t end = head.find("\r\n", start);
    if (end == std::string::npos || end == start) break;  // the blank line
    if (line_has_name(std::string_view(head).substr(start, end - start), name)) {
      head.erase(start, end + 2 - start);
      ++removed;
      pos = start - 2;
    } else {
      pos = end;
    }
  }
  return removed;
}

bool has_line(const std::string& head, std::string_view name) {
  size_t pos = head.find("\r\n");
  while (pos != std::string::npos) {
    const size_t start = pos + 2;
    const size_t end = head.find("\r\n", start);
    if (end == std::string::npos || end == start) return false;
    if (line_has_name(std::string_view(head).substr(start, end - start), name)) return true;
    pos = end;
  }
  return false;
}

void add_lines(std::string& head, const HeaderEdit& edit) {
  std::string lines;
  for (const std::string& value : edit.values) lines += edit.name + ": " + value + "\r\n";
  head.insert(head.size() - 2, lines);  // before the final blank line
}

}  // namespace

void apply_header_edits(std::string& head, const std::vector<HeaderEdit>& edits) {
  if (edits.empty() || head.size() < 4 || head.compare(head.size() - 4, 4, "\r\n\r\n") != 0) return;
  for (const HeaderEdit& edit : edits) {
    switch (edit.action) {
      case HeaderEditAction::kDelete:
        remove_lines(head, edit.name);
        break;
      case HeaderEditAction::kOverride:
        remove_lines(head, edit.name);
        add_lines(head, edit);
        break;
      case HeaderEditAction::kSkip:
        if (!has_line(head, edit.name)) add_lines(head, edit);
        break;
      case HeaderEditAction::kAppend:
        add_lines(head, edit);
        break;
    }
  }
}

}  // namespace ringgate::http
