#include "test_material.hpp"

#include <stdlib.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace ringgate::certs::test_support {
namespace {

std::string make_temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "ringgate-certs-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// "sha1 Fingerprint=46:EF:…" → "46EF…".
std::string thumbprint_of(const std::string& crt) {
  std::string line = run_command("openssl x509 -noout -fingerprint -sha1 -in " + shell_quote(crt));
  std::string hex;
  for (char c : line.substr(line.find('=') + 1)) {
    if (c != ':' && c != '\n') hex.push_back(c);
  }
  return hex;
}

// "notAfter=2028-01-03 17:59:14Z" → "2028-01-03T17:59:14Z".
std::string expiration_of(const std::string& crt) {
  std::string line =
      run_command("openssl x509 -noout -enddate -dateopt iso_8601 -in " + shell_quote(crt));
  std::string date = line.substr(line.find('=') + 1);
  while (!date.empty() && date.back() == '\n') date.pop_back();
  if (date.size() > 10) date[10] = 'T';
  return date;
}

class Generator {
 public:
  explicit Generator(std::string dir) : dir_(std::move(dir)) {}

  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  void self_signed(const std::string& name, const std::string& subject, int days) {
    run("openssl req -x509 -newkey rsa:2048 -nodes -subj " + shell_quote(subject) + " -days " +
        std::to_string(days) + " -keyout " + q(name + ".key") + " -out " + q(name + ".crt"));
  }

  void signed_by(const std::string& name, const std::string& ca, const std::string& subject,
                 int days) {
    run("openssl req -new -newkey rsa:2048 -nodes -subj " + shell_quote(subject) + " -keyout " +
        q(name + ".key") + " -out " + q(name + ".csr"));
    run("openssl x509 -req -in " + q(name + ".csr") + " -CA " + q(ca + ".crt") + " -CAkey " +
        q(ca + ".key") + " -CAcreateserial -days " + std::to_string(days) + " -out " +
        q(name + ".crt"));
  }

  // `openssl pkcs12 -export <options> -passout pass:<password>`; returns the bytes.
  std::string pkcs12(const std::string& options, const std::string& password,
                     const std::string& out) {
    run("openssl pkcs12 -export " + options + " -passout " + shell_quote("pass:" + password) +
        " -out " + q(out));
    return read_binary(path(out));
  }

  // The path of `name` in the material directory, quoted for the shell.
  std::string q(const std::string& name) const { return shell_quote(path(name)); }

 private:
  void run(const std::string& command) { run_command(command + " 2>/dev/null"); }
  std::string dir_;
};

TestMaterial generate(const std::string& dir) {
  TestMaterial m;
  m.dir = dir;
  Generator g(m.dir);
  g.self_signed("orders", "/O=Contoso/CN=orders-client", 400);
  g.self_signed("billing", "/CN=billing-client", 400);
  g.self_signed("ca", "/O=Contoso/CN=Contoso Test Root", 400);
  g.signed_by("leaf", "ca", "/CN=leaf.example", 20);

  m.orders_key_pem = read_binary(g.path("orders.key"));
  m.orders_thumbprint = thumbprint_of(g.path("orders.crt"));
  m.orders_expiration = expiration_of(g.path("orders.crt"));
  m.billing_thumbprint = thumbprint_of(g.path("billing.crt"));
  m.ca_thumbprint = thumbprint_of(g.path("ca.crt"));
  m.leaf_thumbprint = thumbprint_of(g.path("leaf.crt"));

  const std::string orders = "-in " + g.q("orders.crt") + " -inkey " + g.q("orders.key");
  m.orders_legacy_pfx = g.pkcs12("-legacy " + orders, kPassword, "orders-legacy.pfx");
  m.orders_aes_pfx = g.pkcs12(orders, kPassword, "orders-aes.pfx");
  m.orders_empty_password_pfx = g.pkcs12(orders, "", "orders-empty.pfx");
  m.orders_empty_password_legacy_pfx = g.pkcs12("-legacy " + orders, "", "orders-empty-legacy.pfx");
  m.orders_no_mac_pfx = g.pkcs12("-nomac " + orders, kPassword, "orders-nomac.pfx");
  m.billing_aes_pfx = g.pkcs12("-in " + g.q("billing.crt") + " -inkey " + g.q("billing.key"),
                               kPassword, "billing-aes.pfx");
  m.leaf_with_chain_pfx = g.pkcs12(
      "-in " + g.q("leaf.crt") + " -inkey " + g.q("leaf.key") + " -certfile " + g.q("ca.crt"),
      kPassword, "leaf-chain.pfx");
  m.no_key_pfx = g.pkcs12("-nokeys -in " + g.q("orders.crt"), kPassword, "no-key.pfx");
  m.no_certificate_pfx = g.pkcs12("-nocerts -inkey " + g.q("orders.key"), kPassword, "no-cert.pfx");
  // `-in` insists that its certificate match the key; `-certfile` does not.
  m.key_mismatch_pfx =
      g.pkcs12("-nocerts -inkey " + g.q("orders.key") + " -certfile " + g.q("billing.crt"),
               kPassword, "mismatch.pfx");
  return m;
}

// Keeps the material for the life of the process; removes the directory
// at exit, or at once when generating fails.
struct Owner {
  TempDir dir;
  TestMaterial material = generate(dir.path());
};

}  // namespace

const TestMaterial& material() {
  static const Owner owner;
  return owner.material;
}

std::string run_command(const std::string& command) {
  // A test may point OPENSSL_MODULES elsewhere to hide a provider from the
  // code under test; the tool must still find its own.
  const std::string full = "env -u OPENSSL_MODULES " + command;
  FILE* pipe = ::popen(full.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run: " + command);
  std::string output;
  std::array<char, 4096> buffer;
  while (size_t got = std::fread(buffer.data(), 1, buffer.size(), pipe)) {
    output.append(buffer.data(), got);
  }
  int status = ::pclose(pipe);
  if (status != 0)
    throw std::runtime_error("command failed (" + std::to_string(status) + "): " + command);
  return output;
}

std::string read_binary(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_binary(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  if (!out) throw std::runtime_error("cannot write " + path);
}

TempDir::TempDir() : path_(make_temp_dir()) {}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace ringgate::certs::test_support
