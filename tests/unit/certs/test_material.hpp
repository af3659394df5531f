// Real certificates and PFX files for the certs tests, made once per test
// process with the `openssl` command line tool (as an operator would make
// them) in a private temp directory that is removed at exit.
#pragma once

#include <string>

namespace ringgate::certs::test_support {

// The password every password-protected PFX below uses. Distinctive, so a
// test can prove it never leaks into a message or a file.
inline constexpr const char* kPassword = "Tr0ub4dor&3-not-in-logs";

struct TestMaterial {
  std::string dir;

  // "orders": self-signed, subject /O=Contoso/CN=orders-client, 400 days.
  std::string orders_key_pem;     // the private key, PEM
  std::string orders_thumbprint;  // from `openssl x509 -fingerprint -sha1`, colons removed
  std::string orders_expiration;  // from `openssl x509 -enddate`, as "YYYY-MM-DDTHH:MM:SSZ"
  std::string orders_legacy_pfx;  // -legacy: RC2-40 certificates, 3DES key, SHA-1 MAC (Windows)
  std::string orders_aes_pfx;     // default export: AES-256-CBC, SHA-256 MAC
  std::string orders_empty_password_pfx;         // AES, password ""
  std::string orders_empty_password_legacy_pfx;  // RC2-40, password ""
  std::string orders_no_mac_pfx;                 // AES, -nomac: no integrity MAC

  // "billing": self-signed, /CN=billing-client, 400 days, AES.
  std::string billing_thumbprint;
  std::string billing_aes_pfx;

  // A CA and a leaf it signed (/CN=leaf.example, 20 days), exported with
  // -certfile ca.crt.
  std::string ca_thumbprint;
  std::string leaf_thumbprint;
  std::string leaf_with_chain_pfx;

  std::string no_key_pfx;          // -nokeys: orders' certificate only
  std::string no_certificate_pfx;  // -nocerts: orders' key only
  std::string key_mismatch_pfx;    // orders' key with billing's certificate
};

// The material, generated on first use. Throws std::runtime_error naming the
// command when the openssl tool fails.
const TestMaterial& material();

// Runs `command` with /bin/sh; returns its stdout; throws if it exits non-zero.
std::string run_command(const std::string& command);

// Reads/writes a whole file in binary.
std::string read_binary(const std::string& path);
void write_binary(const std::string& path, const std::string& contents);

// A fresh directory from mkdtemp, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace ringgate::certs::test_support
