// The values the etcd client speaks in: where the cluster is, keys with their
// revisions, the compares and operations of a transaction, watch events, and
// the result types every request returns. Keys and values are byte strings
// (any byte, NUL included); the client base64-encodes them on the wire.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ringgate::fleet {

// Where the cluster is and how to reach it. Every field is copied by the client
// that takes it.
struct EtcdOptions {
  // Client URLs of the members, "http://127.0.0.1:2379" or "https://…", no
  // trailing path. Requests go to one member at a time, failing over in order.
  std::vector<std::string> endpoints;
  // https: the CA bundle (a PEM file) that signs the members' certificates;
  // "" trusts the system's default CAs.
  std::string ca_file;
  // Optional client certificate for mutual TLS to etcd: the certificate (and
  // its chain) as PEM, and its private key as PEM. Held in memory only; both or
  // neither.
  std::string client_certificate_pem;
  std::string client_key_pem;
  // TCP (and TLS) connect bound per endpoint.
  long connect_timeout_ms = 500;
  // Whole-request bound per endpoint for the blocking requests (a watch stream
  // has no such bound: it lives until it ends or is stopped).
  long request_timeout_ms = 2000;
};

// One key as etcd stores it. Revisions are etcd's: create_revision is the
// cluster revision that created the key, mod_revision the one that last
// changed it, version the number of changes since creation (0: absent).
struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
};

// A read. ok(): `revision` is the cluster revision the read saw and `kvs` the
// keys in key order. Otherwise `error` says why (every endpoint's failure when
// none answered); the other fields are then meaningless.
struct RangeResult {
  std::string error;
  int64_t revision = 0;
  std::vector<KeyValue> kvs;
  bool ok() const { return error.empty(); }
};

// One condition of a transaction: `target` of `key` (or of every key in
// [key, range_end) when range_end is not empty) compared with `value`. Over a
// range the compare holds only when it holds for every key in it; etcd treats
// an absent key as version 0, create/mod revision 0.
struct Compare {
  enum class Target { kModRevision, kCreateRevision, kVersion };
  enum class Result { kEqual, kNotEqual, kLess, kGreater };
  std::string key;
  std::string range_end;  // "" = just `key`
  Target target = Target::kModRevision;
  Result result = Result::kEqual;
  int64_t value = 0;
};

// One write of a transaction. kPut stores `value` under `key`; kDelete removes
// `key` (`value` unused).
struct Operation {
  enum class Kind { kPut, kDelete };
  Kind kind = Kind::kPut;
  std::string key;
  std::string value;
};

// A transaction. ok(): `succeeded` says whether every compare held (and so
// which branch ran), `revision` is the cluster revision after it (unchanged
// when the branch that ran wrote nothing). Otherwise `error` says why and the
// transaction may or may not have been applied (a timeout after the member
// forwarded it).
struct TxnResult {
  std::string error;
  bool succeeded = false;
  int64_t revision = 0;
  bool ok() const { return error.empty(); }
};

// One change a watch reports: the key's new state (kPut) or its deletion
// (kDelete: kv.key and kv.mod_revision, the revision of the deletion, are set;
// the value is empty).
struct WatchEvent {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  KeyValue kv;
};

// The end of the range that holds every key starting with `prefix`, as etcd
// wants it in range_end: `prefix` with its last byte below 0xff incremented and
// what follows dropped. An empty prefix, or one of 0xff bytes only, gives "\0"
// (with key "\0": every key).
std::string prefix_range_end(std::string_view prefix);

}  // namespace ringgate::fleet
