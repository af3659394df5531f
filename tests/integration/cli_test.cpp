// ringgate's command line (issue 2, acceptance 5; DESIGN §6): --check-config
// names every mistake with its JSON path, --version, and --config refusing a
// broken file.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <regex>

#include "harness.hpp"

namespace ringgate::itest {
namespace {

// Three different kinds of mistake: a wrong type, an invalid URL, an unknown key.
constexpr const char* kThreeMistakes = R"({
  "gateway": {
    "workers": "four",
    "listeners": [{"address": "127.0.0.1:18080"}],
    "colour": "blue"
  },
  "apis": {
    "x": {"path": "x", "serviceUrl": "not a url"}
  }
}
)";

TEST(Cli, CheckConfigNamesEveryMistakeWithItsJsonPath) {
  TempDir dir;
  write_file(dir.file("bad.json"), kThreeMistakes);
  CommandResult r = run_command({ringgate_binary(), "--check-config", dir.file("bad.json")});
  EXPECT_EQ(r.exit_code, 1);
  std::string output = r.out + r.err;
  for (const char* path : {"$.gateway.workers", "$.apis.x.serviceUrl", "$.gateway.colour"}) {
    EXPECT_NE(output.find(path), std::string::npos) << "missing " << path << " in:\n" << output;
  }
}

TEST(Cli, CheckConfigAcceptsValidFile) {
  TempDir dir;
  write_file(dir.file("admin.token"), "secret\n", 0600);
  ::mkdir(dir.file("state").c_str(), 0700);
  GatewayConfig o;
  o.apis = {{"orders", "orders", "http://127.0.0.1:9/api"}};
  o.limits = {{"maxHeaderBytes", 8192}};
  o.timeouts = {{"clientHeaderMs", 1000}};
  write_file(dir.file("ok.json"), gateway_config_json(o, 0, free_port(), "admin.token"));
  CommandResult r = run_command({ringgate_binary(), "--check-config", dir.file("ok.json")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST(Cli, CheckConfigRejectsMissingFile) {
  TempDir dir;
  CommandResult r = run_command({ringgate_binary(), "--check-config", dir.file("absent.json")});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
}

TEST(Cli, VersionPrintsVersionAndExitsZero) {
  CommandResult r = run_command({ringgate_binary(), "--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\d+\.\d+\.\d+)"))) << r.out;
}

TEST(Cli, ConfigWithMistakesDoesNotStart) {
  TempDir dir;
  write_file(dir.file("bad.json"), kThreeMistakes);
  CommandResult r =
      run_command({ringgate_binary(), "--config", dir.file("bad.json")}, Millis(10000));
  ASSERT_TRUE(r.exit_code) << "ringgate kept running on an invalid config";
  EXPECT_EQ(*r.exit_code, 1);
  EXPECT_NE((r.out + r.err).find("$.gateway.workers"), std::string::npos) << r.out << r.err;
}

// A minimal valid config with a certificate whose passwordFile is `password_file`.
std::string config_with_password_file(const std::string& password_file) {
  return R"({"gateway": {"listeners": [{"address": "127.0.0.1:0"}]},
             "certificates": {"c": {"pfxFile": "c.pfx", "passwordFile": )" +
         std::string("\"") + password_file + "\"}}}\n";
}

TEST(Cli, CheckConfigRefusesFifoAsPasswordFileWithoutWaitingForAWriter) {
  TempDir dir;
  write_file(dir.file("c.pfx"), "not read: the FIFO is found first");
  ASSERT_EQ(::mkfifo(dir.file("c.pass").c_str(), 0600), 0);
  write_file(dir.file("fifo.json"), config_with_password_file("c.pass"));
  const auto start = Clock::now();
  CommandResult r =
      run_command({ringgate_binary(), "--check-config", dir.file("fifo.json")}, Millis(5000));
  EXPECT_LT(elapsed_ms(start), 1000);
  ASSERT_TRUE(r.exit_code) << "ringgate --check-config hung on a FIFO";
  EXPECT_EQ(*r.exit_code, 1);
  const std::string output = r.out + r.err;
  EXPECT_NE(output.find("$.certificates.c.passwordFile"), std::string::npos) << output;
  EXPECT_NE(output.find(dir.file("c.pass") + "\": is a FIFO, not a regular file"),
            std::string::npos)
      << output;
}

TEST(Cli, ConfigRefusesAStateDirWritableByOthers) {
  TempDir dir;
  const std::string state = dir.file("state");
  ASSERT_EQ(::mkdir(state.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(state.c_str(), 0777), 0);
  GatewayConfig o;
  o.apis = {{"orders", "orders", "http://127.0.0.1:9/api"}};
  write_file(dir.file("admin.token"), "secret\n", 0600);
  write_file(dir.file("ringgate.json"), gateway_config_json(o, 0, free_port(), "admin.token"));
  CommandResult r =
      run_command({ringgate_binary(), "--config", dir.file("ringgate.json")}, Millis(10000));
  ASSERT_TRUE(r.exit_code) << "ringgate started with a world-writable stateDir";
  EXPECT_EQ(*r.exit_code, 1);
  const std::string output = r.out + r.err;
  EXPECT_NE(
      output.find("$.gateway.stateDir: " + state + " is writable by group/others (mode 0777)"),
      std::string::npos)
      << output;
}

}  // namespace
}  // namespace ringgate::itest
