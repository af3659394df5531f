#include "fleet/sealed.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "files/base64.hpp"
#include "files/errno_text.hpp"
#include "files/read_file.hpp"

namespace ringgate::fleet {

struct SecretKey {
  std::string id;
  std::array<unsigned char, kKeyBytes> bytes{};

  SecretKey() = default;
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  ~SecretKey() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

namespace {

constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
constexpr int kEnvelopeVersion = 1;
// OpenSSL counts in int; values in etcd are far smaller (1.5 MiB by default).
constexpr size_t kMaxInputBytes = size_t{1} << 30;
constexpr std::string_view kKeyLineShape = "<keyId>:<base64 of 32 random bytes>";

struct CipherDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const noexcept { EVP_CIPHER_CTX_free(ctx); }
};
using UniqueCipher = std::unique_ptr<EVP_CIPHER_CTX, CipherDeleter>;

// Wipes a string that held secret bytes before its memory is released.
void wipe(std::string& text) {
  OPENSSL_cleanse(text.data(), text.size());
  text.clear();
}

bool is_key_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool is_valid_key_id(std::string_view id) {
  return !id.empty() && id.size() <= kKeyIdMaxChars &&
         std::all_of(id.begin(), id.end(), is_key_id_char);
}

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\f\v";
  const size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(kSpace) - begin + 1);
}

// The additional authenticated data: the format version, the key id and the
// caller's context. A key id never holds '\n', so the split is unambiguous.
std::string associated_data(std::string_view key_id, std::string_view context) {
  std::string aad = "ringgate-sealed/1\n";
  aad += key_id;
  aad += '\n';
  aad += context;
  return aad;
}

SealResult failure(SealError error, std::string reason) {
  ERR_clear_error();
  SealResult result;
  result.error = error;
  result.reason = std::move(reason);
  return result;
}

std::string line_problem(size_t line, std::string_view what) {
  return "line " + std::to_string(line) + ": " + std::string(what);
}

// One "<id>:<base64>" line; nullptr after appending its problem.
std::unique_ptr<SecretKey> parse_key_line(std::string_view line, size_t number,
                                          std::vector<std::string>& problems);

}  // namespace

const char* to_string(SealError error) noexcept {
  switch (error) {
    case SealError::kNone:
      return "None";
    case SealError::kUnknownKey:
      return "UnknownKey";
    case SealError::kBadEnvelope:
      return "BadEnvelope";
    case SealError::kAuthentication:
      return "Authentication";
    case SealError::kCrypto:
      return "Crypto";
  }
  return "Unknown";
}

KeyRing::KeyRing(std::vector<std::unique_ptr<SecretKey>> keys) : keys_(std::move(keys)) {}
KeyRing::KeyRing(KeyRing&&) noexcept = default;
KeyRing& KeyRing::operator=(KeyRing&&) noexcept = default;
KeyRing::~KeyRing() = default;

std::optional<KeyRing> KeyRing::parse(std::string_view text, std::vector<std::string>& problems) {
  const size_t problems_before = problems.size();
  std::vector<std::unique_ptr<SecretKey>> keys;
  std::map<std::string, size_t, std::less<>> lines_by_id;
  size_t number = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    const std::string_view line = trim(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++number;
    if (line.empty() || line.front() == '#') continue;
    std::unique_ptr<SecretKey> key = parse_key_line(line, number, problems);
    if (!key) continue;
    if (auto [it, inserted] = lines_by_id.emplace(key->id, number); !inserted) {
      problems.push_back(line_problem(
          number, "key id \"" + key->id + "\" is also on line " + std::to_string(it->second)));
      continue;
    }
    keys.push_back(std::move(key));
  }
  if (keys.empty() && problems.size() == problems_before) {
    problems.push_back("holds no key (expected lines of " + std::string(kKeyLineShape) + ")");
  }
  if (problems.size() != problems_before) return std::nullopt;
  return KeyRing(std::move(keys));
}

namespace {

std::unique_ptr<SecretKey> parse_key_line(std::string_view line, size_t number,
                                          std::vector<std::string>& problems) {
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    problems.push_back(line_problem(number, "expected " + std::string(kKeyLineShape)));
    return nullptr;
  }
  // The id is quoted only once it is known to be a valid id: a malformed
  // line may be a pasted key.
  const std::string_view id = trim(line.substr(0, colon));
  if (!is_valid_key_id(id)) {
    problems.push_back(line_problem(number, "key id must be 1 to " +
                                                std::to_string(kKeyIdMaxChars) +
                                                " characters of A-Z a-z 0-9 . _ -"));
    return nullptr;
  }
  std::string bytes;
  if (!files::base64_decode(trim(line.substr(colon + 1)), bytes)) {
    problems.push_back(line_problem(
        number, "key \"" + std::string(id) + "\" is not valid base64 (RFC 4648, with padding)"));
    return nullptr;
  }
  if (bytes.size() != kKeyBytes) {
    const size_t found = bytes.size();
    wipe(bytes);
    problems.push_back(line_problem(number, "key \"" + std::string(id) + "\" must be " +
                                                std::to_string(kKeyBytes) + " bytes, found " +
                                                std::to_string(found) +
                                                " (make one with: openssl rand -base64 32)"));
    return nullptr;
  }
  auto key = std::make_unique<SecretKey>();
  key->id = std::string(id);
  std::copy(bytes.begin(), bytes.end(), key->bytes.begin());
  wipe(bytes);
  return key;
}

std::string mode_text(mode_t mode) {
  std::array<char, 8> text{};
  std::snprintf(text.data(), text.size(), "%04o", static_cast<unsigned>(mode & 07777));
  return text.data();
}

}  // namespace

std::optional<KeyRing> KeyRing::load(const std::string& path, std::vector<std::string>& problems) {
  const std::string prefix = "key file \"" + path + "\": ";
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    problems.push_back(prefix + files::errno_text(errno));
    return std::nullopt;
  }
  // Write access matters as much as read access: whoever can replace the
  // key can read every value sealed after that.
  if ((info.st_mode & 0044) != 0) {
    problems.push_back(prefix + "mode " + mode_text(info.st_mode) +
                       ": must not be readable by group or others (chmod 600)");
    return std::nullopt;
  }
  if ((info.st_mode & 0033) != 0) {
    problems.push_back(prefix + "mode " + mode_text(info.st_mode) +
                       ": must give group and others no access (chmod 600)");
    return std::nullopt;
  }
  files::FileResult file = files::read_regular_file(path, kKeyFileMaxBytes);
  if (!file.ok()) {
    problems.push_back(file.message());
    return std::nullopt;
  }
  std::vector<std::string> found;
  std::optional<KeyRing> ring = parse(file.contents, found);
  wipe(file.contents);
  for (std::string& problem : found) problems.push_back(prefix + problem);
  return ring;
}

const std::string& KeyRing::current_id() const { return keys_.front()->id; }

const SecretKey* KeyRing::find(std::string_view id) const {
  for (const std::unique_ptr<SecretKey>& key : keys_) {
    if (key->id == id) return key.get();
  }
  return nullptr;
}

namespace {

const unsigned char* bytes_of(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

// AES-256-GCM of `plaintext` into `data` (ciphertext then the 16-byte tag).
bool encrypt(const SecretKey& key, std::string_view nonce, std::string_view aad,
             std::string_view plaintext, std::string& data) {
  data.assign(plaintext.size() + kTagBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(data.data());
  UniqueCipher ctx(EVP_CIPHER_CTX_new());
  int length = 0;
  int final_length = 0;
  return ctx &&
         EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.bytes.data(),
                            bytes_of(nonce)) == 1 &&
         EVP_EncryptUpdate(ctx.get(), nullptr, &length, bytes_of(aad),
                           static_cast<int>(aad.size())) == 1 &&
         EVP_EncryptUpdate(ctx.get(), out, &length, bytes_of(plaintext),
                           static_cast<int>(plaintext.size())) == 1 &&
         EVP_EncryptFinal_ex(ctx.get(), out + length, &final_length) == 1 &&
         static_cast<size_t>(length) + static_cast<size_t>(final_length) == plaintext.size() &&
         EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes),
                             out + plaintext.size()) == 1;
}

// The inverse of encrypt(); false when the tag does not verify. `data` holds
// at least the tag. `plaintext` is wiped on failure.
bool decrypt(const SecretKey& key, std::string_view nonce, std::string_view aad, std::string& data,
             std::string& plaintext) {
  const size_t cipher_bytes = data.size() - kTagBytes;
  plaintext.assign(cipher_bytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(plaintext.data());
  UniqueCipher ctx(EVP_CIPHER_CTX_new());
  int length = 0;
  int final_length = 0;
  const bool ok = ctx &&
                  EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.bytes.data(),
                                     bytes_of(nonce)) == 1 &&
                  EVP_DecryptUpdate(ctx.get(), nullptr, &length, bytes_of(aad),
                                    static_cast<int>(aad.size())) == 1 &&
                  EVP_DecryptUpdate(ctx.get(), out, &length, bytes_of(data),
                                    static_cast<int>(cipher_bytes)) == 1 &&
                  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes),
                                      data.data() + cipher_bytes) == 1 &&
                  EVP_DecryptFinal_ex(ctx.get(), out + length, &final_length) == 1 &&
                  static_cast<size_t>(length) + static_cast<size_t>(final_length) == cipher_bytes;
  if (!ok) wipe(plaintext);
  return ok;
}

// An envelope's fields, decoded.
struct Envelope {
  std::string key_id;
  std::string nonce;  // kNonceBytes
  std::string data;   // ciphertext and tag, at least kTagBytes
};

// Reads the JSON envelope seal() writes; a kBadEnvelope failure otherwise.
SealResult read_envelope(std::string_view text, Envelope& envelope) {
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || json.size() != 4 || !json.contains("v") || !json.contains("kid") ||
      !json.contains("nonce") || !json.contains("data") || !json["kid"].is_string() ||
      !json["nonce"].is_string() || !json["data"].is_string()) {
    return failure(SealError::kBadEnvelope,
                   R"(not a sealed value: expected {"v":1,"kid":"…","nonce":"<base64>",)"
                   R"("data":"<base64>"})");
  }
  if (!json["v"].is_number_unsigned() || json["v"].get<uint64_t>() != kEnvelopeVersion) {
    return failure(SealError::kBadEnvelope,
                   "sealed with format version " + json["v"].dump() + "; this gateway reads 1");
  }
  envelope.key_id = json["kid"].get<std::string>();
  if (!files::base64_decode(json["nonce"].get_ref<const std::string&>(), envelope.nonce) ||
      envelope.nonce.size() != kNonceBytes) {
    return failure(SealError::kBadEnvelope, "nonce must be 12 bytes in base64");
  }
  if (!files::base64_decode(json["data"].get_ref<const std::string&>(), envelope.data) ||
      envelope.data.size() < kTagBytes) {
    return failure(SealError::kBadEnvelope, "data must be base64 of at least the 16-byte tag");
  }
  return SealResult{};
}

}  // namespace

SealResult KeyRing::seal(std::string_view plaintext, std::string_view context) const {
  if (plaintext.size() > kMaxInputBytes || context.size() > kMaxInputBytes) {
    return failure(SealError::kCrypto, "value or context larger than 1 GiB");
  }
  const SecretKey& key = *keys_.front();
  std::array<unsigned char, kNonceBytes> nonce_bytes{};
  if (RAND_bytes(nonce_bytes.data(), static_cast<int>(nonce_bytes.size())) != 1) {
    return failure(SealError::kCrypto, "no random bytes for the nonce");
  }
  const std::string_view nonce(reinterpret_cast<const char*>(nonce_bytes.data()),
                               nonce_bytes.size());
  std::string data;
  if (!encrypt(key, nonce, associated_data(key.id, context), plaintext, data)) {
    return failure(SealError::kCrypto, "AES-256-GCM encryption failed");
  }
  nlohmann::ordered_json envelope;
  envelope["v"] = kEnvelopeVersion;
  envelope["kid"] = key.id;
  envelope["nonce"] = files::base64_encode(nonce);
  envelope["data"] = files::base64_encode(data);
  SealResult result;
  result.text = envelope.dump();
  result.key_id = key.id;
  return result;
}

SealResult KeyRing::open(std::string_view envelope, std::string_view context) const {
  if (envelope.size() > kMaxInputBytes || context.size() > kMaxInputBytes) {
    return failure(SealError::kCrypto, "value or context larger than 1 GiB");
  }
  Envelope fields;
  if (SealResult read = read_envelope(envelope, fields); !read.ok()) return read;
  const SecretKey* key = find(fields.key_id);
  if (key == nullptr) {
    return failure(SealError::kUnknownKey,
                   is_valid_key_id(fields.key_id)
                       ? "sealed with unknown key id \"" + fields.key_id +
                             "\" (rotate: keep it in the key file until every value is rewritten)"
                       : "sealed with an invalid key id");
  }
  SealResult result;
  if (!decrypt(*key, fields.nonce, associated_data(key->id, context), fields.data, result.text)) {
    return failure(SealError::kAuthentication,
                   "authentication failed: key \"" + key->id +
                       "\" does not open this value (a different key under the same id, a "
                       "tampered value, or a value moved from another etcd key)");
  }
  result.key_id = key->id;
  return result;
}

}  // namespace ringgate::fleet
