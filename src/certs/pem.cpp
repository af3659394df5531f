#include "certs/pem.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <climits>
#include <utility>

namespace ringgate::certs {
namespace {

struct BioDeleter {
  void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};
using UniqueBio = std::unique_ptr<BIO, BioDeleter>;

// A passphrase callback that refuses: without one OpenSSL would prompt on the
// terminal if it ever met an encrypted key.
int refuse_passphrase(char*, int, int, void*) { return -1; }

// True when the last PEM read stopped because no further block of the wanted
// kind exists, as opposed to a block that failed to decode.
bool reached_end() {
  unsigned long code = ERR_peek_last_error();
  return ERR_GET_LIB(code) == ERR_LIB_PEM && ERR_GET_REASON(code) == PEM_R_NO_START_LINE;
}

UniqueBio reader(std::string_view pem) {
  return UniqueBio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

PfxResult unreadable(const std::string& what) {
  ERR_clear_error();
  PfxResult result;
  result.error = PfxError::kNotPfx;
  result.message = "the PEM file's " + what + " cannot be decoded";
  return result;
}

}  // namespace

bool encode_pem(const LoadedCertificate& certificate, std::string& out) {
  // Secure-memory BIOs wipe their buffer when freed.
  UniqueBio bio(BIO_new(BIO_s_secmem()));
  bool ok = bio &&
            PEM_write_bio_PrivateKey(bio.get(), certificate.key(), nullptr, nullptr, 0, nullptr,
                                     nullptr) == 1 &&
            PEM_write_bio_X509(bio.get(), certificate.certificate()) == 1;
  STACK_OF(X509)* chain = certificate.chain();
  for (int i = 0; ok && chain != nullptr && i < sk_X509_num(chain); ++i) {
    ok = PEM_write_bio_X509(bio.get(), sk_X509_value(chain, i)) == 1;
  }
  if (ok) {
    char* data = nullptr;
    long length = BIO_get_mem_data(bio.get(), &data);
    out.append(data, static_cast<size_t>(length));
  }
  ERR_clear_error();
  return ok;
}

PfxResult decode_pem(std::string_view pem) {
  ERR_clear_error();
  if (pem.size() > static_cast<size_t>(INT_MAX)) return unreadable("size");

  UniqueBio key_reader = reader(pem);
  if (!key_reader) return unreadable("contents");
  UniqueKey key(PEM_read_bio_PrivateKey(key_reader.get(), nullptr, refuse_passphrase, nullptr));
  if (!key && !reached_end()) return unreadable("private key");
  ERR_clear_error();

  // A second pass for the certificates: PEM readers skip blocks of other
  // kinds, so the key block is passed over here.
  UniqueBio certificate_reader = reader(pem);
  if (!certificate_reader) return unreadable("contents");
  UniqueX509 leaf;
  UniqueX509Stack chain(sk_X509_new_null());
  if (!chain) return unreadable("contents");
  for (;;) {
    UniqueX509 next(
        PEM_read_bio_X509(certificate_reader.get(), nullptr, refuse_passphrase, nullptr));
    if (!next) {
      if (!reached_end())
        return unreadable("certificate #" +
                          std::to_string(leaf ? 2 + sk_X509_num(chain.get()) : 1));
      break;
    }
    if (!leaf) {
      leaf = std::move(next);
    } else if (sk_X509_push(chain.get(), next.get()) > 0) {
      next.release();  // NOLINT(bugprone-unused-return-value): the stack owns it now
    } else {
      return unreadable("contents");
    }
  }
  ERR_clear_error();
  return make_loaded_certificate(std::move(key), std::move(leaf), std::move(chain));
}

}  // namespace ringgate::certs
