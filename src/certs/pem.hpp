// The store's on-disk form of a certificate: one PEM file holding the private
// key (PKCS#8, unencrypted), the certificate, then the chain. It is what
// nginx and HAProxy read, so an operator can inspect it with `openssl`.
// Internal to src/certs.
#pragma once

#include <string>
#include <string_view>

#include "certs/pfx.hpp"

namespace ringgate::certs {

// Appends the PEM form of `certificate` to `out`. Returns false (leaving
// `out` unspecified) if OpenSSL cannot encode it. `out` then holds key
// material: the caller overwrites it (OPENSSL_cleanse) when done.
bool encode_pem(const LoadedCertificate& certificate, std::string& out);

// Reads what encode_pem wrote: the first private key, the first
// certificate as the key's, any further ones as the chain. Errors are
// kNotPfx (unreadable PEM) and those of make_loaded_certificate. Never
// prompts for a passphrase.
PfxResult decode_pem(std::string_view pem);

}  // namespace ringgate::certs
