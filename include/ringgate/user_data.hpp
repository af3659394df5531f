// Encoding of io_uring user_data: an operation tag, a slot index and the slot's
// generation, never a pointer. A completion whose generation no longer matches
// its slot belongs to a connection that has since been recycled and is dropped.
#pragma once

#include <cstdint>

namespace ringgate {

enum class Op : uint8_t {
  kNone = 0,
  kAccept,      // multishot accept; slot = listener index
  kClientRecv,  // slot = client connection
  kClientSend,
  kBackendConnect,  // slot = backend connection
  kBackendRecv,
  kBackendSend,
  kWake,    // eventfd read: control thread posted work
  kCancel,  // completions of cancel requests; ignored
};

struct UserData {
  Op op = Op::kNone;
  uint32_t slot = 0;        // 24 bits used
  uint32_t generation = 0;  // 32 bits
};

inline constexpr uint32_t kMaxSlot = (1u << 24) - 1;

// Packs op (8 bits) | slot (24 bits) | generation (32 bits). `slot` must be <= kMaxSlot.
constexpr uint64_t encode_user_data(Op op, uint32_t slot, uint32_t generation) noexcept {
  return (static_cast<uint64_t>(op) << 56) | (static_cast<uint64_t>(slot & kMaxSlot) << 32) |
         generation;
}

constexpr UserData decode_user_data(uint64_t value) noexcept {
  return UserData{static_cast<Op>(value >> 56), static_cast<uint32_t>((value >> 32) & kMaxSlot),
                  static_cast<uint32_t>(value)};
}

}  // namespace ringgate
