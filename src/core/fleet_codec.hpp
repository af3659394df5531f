// The managed state as a shared store (etcd) holds it (DESIGN §13): one key
// per resource under gateway.configSource.prefix, each value the entity's
// plaintext before it is sealed.
//
//   certificates/<id>   PEM: private key (PKCS#8), certificate, chain
//   backends/<id>       {"url": …, "tls": {…}, "caCertificate": …}
//   apis/<id>           {"path": …, "serviceUrl": …}
//   apis/<id>/policy    the policy XML
//
// Keys here are relative to the prefix. Control thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "certs/store.hpp"
#include "core/managed_state.hpp"
#include "ringgate/config.hpp"

namespace ringgate::core {

// Relative key → plaintext value. Certificate values hold key material:
// wipe_entries() before letting go of one.
using FleetEntries = std::map<std::string, std::string>;

// Overwrites every value's bytes, then clears `entries`.
void wipe_entries(FleetEntries& entries);

// The entries that hold `managed` and `uploaded`. False, with `error`, when
// a certificate cannot be encoded.
bool encode_fleet_state(const ManagedResources& managed, const certs::CertificateSet& uploaded,
                        FleetEntries& entries, std::string& error);

// The kind of resource a relative key names, and its id; false for a key
// that names none (left alone: a newer gateway may write keys this one does
// not know).
enum class FleetKey { kCertificate, kBackend, kApi, kPolicy };
bool parse_fleet_key(const std::string& key, FleetKey& kind, std::string& id);

// Decodes one certificate value (already opened).
using CertificateDecoder = std::function<std::shared_ptr<const certs::LoadedCertificate>(
    const std::string& key, const std::string& value, std::string& error)>;

// Rebuilds the state from `entries`. Every value that does not decode is a
// problem at its key; false when there was any. `decode_certificate` turns a
// certificate value into a certificate (the caller may cache by value).
bool decode_fleet_state(const FleetEntries& entries, const CertificateDecoder& decode_certificate,
                        ManagedResources& managed, certs::CertificateSet& uploaded,
                        std::vector<config::Problem>& problems);

// The default decoder: certs::decode_pem.
std::shared_ptr<const certs::LoadedCertificate> decode_certificate_pem(const std::string& key,
                                                                       const std::string& value,
                                                                       std::string& error);

}  // namespace ringgate::core
