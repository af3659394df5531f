#include "admin/console_files.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>
#include <vector>

namespace ringgate::admin {
namespace {

// Every match of the first group of `pattern` in `text`.
std::set<std::string> captures(const std::string& text, const std::string& pattern) {
  std::set<std::string> found;
  const std::regex re(pattern);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it) {
    found.insert((*it)[1].str());
  }
  return found;
}

bool is_module(const std::string& path) {
  return path.size() > 3 && path.compare(path.size() - 3, 3, ".js") == 0;
}

TEST(ConsoleFiles, ServesTheIndexAtTheRootAsHtml) {
  const StaticFiles files = console_files();
  ASSERT_TRUE(files.contains("/"));
  EXPECT_EQ(files.at("/").content_type, "text/html; charset=utf-8");
  EXPECT_NE(files.at("/").body.find("<title>ringgate console</title>"), std::string::npos);
  EXPECT_FALSE(files.contains("/index.html"));
}

TEST(ConsoleFiles, ServesEveryFileTheIndexLinks) {
  const StaticFiles files = console_files();
  const std::set<std::string> linked =
      captures(files.at("/").body, R"re((?:src|href)="(/[^"]*)")re");
  ASSERT_FALSE(linked.empty());
  for (const std::string& path : linked) EXPECT_TRUE(files.contains(path)) << path;
}

TEST(ConsoleFiles, ServesEveryModuleAModuleImports) {
  const StaticFiles files = console_files();
  for (const auto& [path, file] : files) {
    if (!is_module(path)) continue;
    EXPECT_EQ(file.content_type, "text/javascript; charset=utf-8") << path;
    const std::string folder = path.substr(0, path.rfind('/') + 1);
    for (const std::string& import : captures(file.body, R"re(from '\./([^']+)')re")) {
      EXPECT_TRUE(files.contains(folder + import)) << path << " imports " << import;
    }
  }
}

// The tags of `html` named `name`, each from '<' to '>'.
std::vector<std::string> tags(const std::string& html, const std::string& name) {
  std::vector<std::string> found;
  for (size_t at = html.find("<" + name); at != std::string::npos;
       at = html.find("<" + name, at + 1)) {
    found.push_back(html.substr(at, html.find('>', at) - at + 1));
  }
  return found;
}

TEST(ConsoleFiles, IndexHasNoInlineScriptOrEventHandler) {
  const std::string index = console_files().at("/").body;
  const std::vector<std::string> scripts = tags(index, "script");
  ASSERT_FALSE(scripts.empty());
  for (const std::string& tag : scripts) {
    EXPECT_NE(tag.find(" src=\""), std::string::npos) << tag;
  }
  // An attribute that starts with "on" is an event handler.
  EXPECT_FALSE(std::regex_search(index, std::regex(R"(\son[a-z]+=)")));
}

// Server values reach the page as text only; these are the ways markup
// would get in.
TEST(ConsoleFiles, ModulesNeverParseStringsAsHtml) {
  for (const auto& [path, file] : console_files()) {
    if (!is_module(path)) continue;
    for (const char* sink : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                             "createContextualFragment", "eval("}) {
      EXPECT_EQ(file.body.find(sink), std::string::npos) << path << " uses " << sink;
    }
  }
}

}  // namespace
}  // namespace ringgate::admin
