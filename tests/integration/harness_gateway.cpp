// Gateway: a ringgate process on free ports with a config written for the test.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <iostream>
#include <random>
#include <stdexcept>

#include "harness.hpp"

namespace ringgate::itest {

namespace {

// A JSON string literal for `s` (the values here are ASCII; quotes and
// backslashes are the only characters that need escaping).
std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

std::string json_object(const std::map<std::string, uint64_t>& values) {
  std::string out = "{";
  for (const auto& [key, value] : values) {
    if (out.size() > 1) out += ", ";
    out += json_string(key) + ": " + std::to_string(value);
  }
  return out + "}";
}

std::string random_token() {
  std::random_device rd;
  std::string token;
  static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  for (int i = 0; i < 32; ++i) token += kAlphabet[rd() % (sizeof kAlphabet - 1)];
  return token;
}

}  // namespace

std::string gateway_config_json(const GatewayOptions& options, uint16_t port, uint16_t admin_port,
                                const std::string& token_file) {
  std::string g;
  g += "{\n  \"gateway\": {\n";
  g += "    \"workers\": " + std::to_string(options.workers) + ",\n";
  if (!options.cpu_affinity.empty()) {
    g += "    \"cpuAffinity\": " + options.cpu_affinity + ",\n";
  }
  g += "    \"listeners\": [{\"address\": \"127.0.0.1:" + std::to_string(port) + "\"}],\n";
  g += "    \"admin\": {\"address\": \"127.0.0.1:" + std::to_string(admin_port) +
       "\", \"tokenFile\": " + json_string(token_file) + "},\n";
  g += "    \"stateDir\": \"state\"";
  if (!options.limits.empty()) g += ",\n    \"limits\": " + json_object(options.limits);
  if (!options.timeouts.empty()) g += ",\n    \"timeouts\": " + json_object(options.timeouts);
  if (!options.pool.empty()) g += ",\n    \"pool\": " + json_object(options.pool);
  if (!options.access_log_path.empty()) {
    g += ",\n    \"accessLog\": {\"path\": " + json_string(options.access_log_path) + "}";
  }
  g += "\n  },\n  \"apis\": {";
  for (size_t i = 0; i < options.apis.size(); ++i) {
    const auto& api = options.apis[i];
    g += i == 0 ? "\n" : ",\n";
    g += "    " + json_string(api.id) + ": {\"path\": " + json_string(api.path) +
         ", \"serviceUrl\": " + json_string(api.service_url) + "}";
  }
  g += options.apis.empty() ? "}\n}\n" : "\n  }\n}\n";
  return g;
}

Gateway::Gateway(GatewayOptions options) {
  std::string binary = ringgate_binary();
  if (!is_executable(binary)) throw std::runtime_error("RINGGATE_BIN is not executable: " + binary);
  port_ = free_port();
  admin_port_ = free_port();
  while (admin_port_ == port_) admin_port_ = free_port();
  token_ = random_token();
  write_file(dir_.file("admin.token"), token_ + "\n", 0600);
  ::mkdir(dir_.file("state").c_str(), 0700);
  config_path_ = dir_.file("ringgate.json");
  write_file(config_path_, gateway_config_json(options, port_, admin_port_, "admin.token"));
  process_ = std::make_unique<Process>(std::vector<std::string>{binary, "--config", config_path_},
                                       dir_.path(), "ringgate");

  auto deadline = Clock::now() + Millis(15000);
  for (uint16_t port : {port_, admin_port_}) {
    while (!port_accepts(port)) {
      if (!process_->running()) {
        throw std::runtime_error(
            "ringgate exited (code " + std::to_string(process_->wait_exit(Millis(0)).value_or(-1)) +
            ") before accepting on " + std::to_string(port) + "; config:\n" +
            read_file(config_path_) + "stderr:\n" + tail(process_->stderr_text()));
      }
      if (Clock::now() >= deadline) {
        throw std::runtime_error("ringgate did not accept on port " + std::to_string(port) +
                                 " within 15 s; stderr:\n" + tail(process_->stderr_text()));
      }
      std::this_thread::sleep_for(Millis(10));
    }
  }
}

Gateway::~Gateway() {
  // A clean exit on SIGTERM is part of the contract (DESIGN §6), and it is where
  // the sanitizer build's leak check reports: every test checks it on the way out.
  std::optional<int> code = process_->terminate(SIGTERM, Millis(10000));
  if (code != 0) {
    ADD_FAILURE() << "ringgate did not exit 0 on SIGTERM (exit code "
                  << (code ? std::to_string(*code) : std::string("none: killed")) << ")";
  }
  if (::testing::UnitTest::GetInstance()->current_test_info() != nullptr &&
      ::testing::Test::HasFailure()) {
    std::cerr << "---- ringgate config ----\n"
              << read_file(config_path_) << "---- ringgate stderr ----\n"
              << tail(process_->stderr_text()) << "\n---- ringgate stdout ----\n"
              << tail(process_->stdout_text()) << "\n----\n";
  }
}

std::string Gateway::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

}  // namespace ringgate::itest
