#include "certs/pkcs12_kdf.hpp"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#include <algorithm>
#include <memory>

namespace ringgate::certs::pkcs12 {
namespace {

// An iteration count as OpenSSL reads it (absent means 1); one that does not
// fit (negative, or beyond 64 bits) counts as too many.
uint64_t iteration_count(const ASN1_INTEGER* value) {
  if (value == nullptr) return 1;
  uint64_t count = 0;
  if (ASN1_INTEGER_get_uint64(&count, value) != 1) return UINT64_MAX;
  return count;
}

uint64_t saturating_multiply(uint64_t a, uint64_t b) {
  if (a != 0 && b > UINT64_MAX / a) return UINT64_MAX;
  return a * b;
}

}  // namespace

uint64_t kdf_cost(const X509_ALGOR* algorithm) {
  if (algorithm == nullptr || algorithm->parameter == nullptr) return 0;
  const int nid = OBJ_obj2nid(algorithm->algorithm);
  if (nid == NID_pbes2) {
    std::unique_ptr<PBE2PARAM, decltype(&PBE2PARAM_free)> pbe2(
        static_cast<PBE2PARAM*>(
            ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), algorithm->parameter)),
        PBE2PARAM_free);
    if (!pbe2 || pbe2->keyfunc == nullptr || pbe2->keyfunc->parameter == nullptr) return 0;
    const ASN1_TYPE* kdf_parameter = pbe2->keyfunc->parameter;
    switch (OBJ_obj2nid(pbe2->keyfunc->algorithm)) {
      case NID_id_pbkdf2: {
        std::unique_ptr<PBKDF2PARAM, decltype(&PBKDF2PARAM_free)> kdf(
            static_cast<PBKDF2PARAM*>(
                ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM), kdf_parameter)),
            PBKDF2PARAM_free);
        return kdf ? iteration_count(kdf->iter) : 0;
      }
      case NID_id_scrypt: {
        std::unique_ptr<SCRYPT_PARAMS, decltype(&SCRYPT_PARAMS_free)> kdf(
            static_cast<SCRYPT_PARAMS*>(
                ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(SCRYPT_PARAMS), kdf_parameter)),
            SCRYPT_PARAMS_free);
        if (!kdf) return 0;
        return saturating_multiply(saturating_multiply(iteration_count(kdf->costParameter),
                                                       iteration_count(kdf->blockSize)),
                                   iteration_count(kdf->parallelizationParameter));
      }
      default:
        return 0;
    }
  }
  if (EVP_PBE_find(EVP_PBE_TYPE_OUTER, nid, nullptr, nullptr, nullptr) != 1) return 0;
  std::unique_ptr<PBEPARAM, decltype(&PBEPARAM_free)> pbe(
      static_cast<PBEPARAM*>(
          ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBEPARAM), algorithm->parameter)),
      PBEPARAM_free);
  return pbe ? iteration_count(pbe->iter) : 0;
}

std::string too_much_key_derivation(uint64_t iterations) {
  return "the PFX asks for " +
         (iterations == UINT64_MAX ? std::string("an unreadable number of")
                                   : std::to_string(iterations)) +
         " key-derivation iterations; at most " + std::to_string(kMaxKdfIterations) +
         " per derivation and " + std::to_string(kMaxDeclaredKdfIterations) +
         " for its MAC and encrypted parts together are accepted (exporters use "
         "2000 to 600000); export it again with a lower iteration count";
}

std::optional<std::string> declared_kdf_work_problem(PKCS12* p12) {
  uint64_t total = 0;
  uint64_t largest = 0;
  auto add = [&](uint64_t iterations) {
    largest = std::max(largest, iterations);
    total = iterations > UINT64_MAX - total ? UINT64_MAX : total + iterations;
  };
  if (PKCS12_mac_present(p12) == 1) {
    const ASN1_INTEGER* iterations = nullptr;
    PKCS12_get0_mac(nullptr, nullptr, nullptr, &iterations, p12);
    add(iteration_count(iterations));
  }
  UniqueSafes safes(PKCS12_unpack_authsafes(p12));
  for (int i = 0; safes && i < sk_PKCS7_num(safes.get()); ++i) {
    const PKCS7* safe = sk_PKCS7_value(safes.get(), i);
    if (OBJ_obj2nid(safe->type) != NID_pkcs7_encrypted || safe->d.encrypted == nullptr ||
        safe->d.encrypted->enc_data == nullptr) {
      continue;
    }
    add(kdf_cost(safe->d.encrypted->enc_data->algorithm));
  }
  // What failed to decode here fails again, with its message, when read.
  ERR_clear_error();
  if (largest > kMaxKdfIterations) return too_much_key_derivation(largest);
  if (total > kMaxDeclaredKdfIterations) return too_much_key_derivation(total);
  return std::nullopt;
}

}  // namespace ringgate::certs::pkcs12
