// PFX loading (certs::load_pfx) on arbitrary bytes and passwords.
//
// Input: [n] [n bytes of password] [the PFX bytes].
#include <openssl/err.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "certs/pfx.hpp"
#include "fuzz_support.hpp"

namespace {

using ringgate::certs::PfxError;
using ringgate::fuzz::printable;

bool is_upper_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ringgate::fuzz::Input input(data, size);
  const std::string_view password = input.take(input.byte());
  const std::string_view pfx = input.rest();

  const ringgate::certs::PfxResult result = ringgate::certs::load_pfx(pfx, password);
  FUZZ_CHECK(ERR_peek_error() == 0, "load_pfx left errors on the OpenSSL error queue");
  FUZZ_CHECK(result.ok() == (result.certificate != nullptr));
  FUZZ_CHECK(result.ok() == result.message.empty(), result.message);
  if (!result.ok()) {
    const PfxError e = result.error;
    FUZZ_CHECK(e == PfxError::kInvalidPassword || e == PfxError::kNotPfx ||
                   e == PfxError::kNoPrivateKey || e == PfxError::kNoCertificate ||
                   e == PfxError::kKeyMismatch,
               ringgate::certs::to_string(e));
    // Messages are printable ASCII, so a password with another byte cannot
    // turn up in one by chance (the fuzzer borrows words from OpenSSL's own
    // error strings).
    if (password.size() >= 8 && std::any_of(password.begin(), password.end(), [](char c) {
          return static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f;
        })) {
      FUZZ_CHECK(result.message.find(password) == std::string::npos, printable(result.message));
    }
    return 0;
  }
  const ringgate::certs::LoadedCertificate& loaded = *result.certificate;
  FUZZ_CHECK(loaded.key() != nullptr && loaded.certificate() != nullptr);
  FUZZ_CHECK(X509_check_private_key(loaded.certificate(), loaded.key()) == 1);
  FUZZ_CHECK(loaded.chain() == nullptr || sk_X509_num(loaded.chain()) > 0);
  const std::string& thumbprint = loaded.info().thumbprint;
  FUZZ_CHECK(thumbprint.size() == 40 && is_upper_hex(thumbprint), printable(thumbprint));
  ERR_clear_error();
  return 0;
}
