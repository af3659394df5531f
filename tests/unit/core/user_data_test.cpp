#include "ringgate/user_data.hpp"

#include <gtest/gtest.h>

namespace ringgate {
namespace {

TEST(UserData, RoundTripsOpSlotAndGeneration) {
  const uint64_t packed = encode_user_data(Op::kBackendRecv, 123456, 0xDEADBEEF);
  const UserData ud = decode_user_data(packed);
  EXPECT_EQ(ud.op, Op::kBackendRecv);
  EXPECT_EQ(ud.slot, 123456u);
  EXPECT_EQ(ud.generation, 0xDEADBEEFu);
}

TEST(UserData, LargestSlotSurvives) {
  const UserData ud = decode_user_data(encode_user_data(Op::kClientSend, kMaxSlot, 1));
  EXPECT_EQ(ud.slot, kMaxSlot);
  EXPECT_EQ(ud.op, Op::kClientSend);
}

TEST(UserData, DifferentGenerationsGiveDifferentValues) {
  EXPECT_NE(encode_user_data(Op::kClientRecv, 5, 1), encode_user_data(Op::kClientRecv, 5, 2));
  EXPECT_NE(encode_user_data(Op::kClientRecv, 5, 1), encode_user_data(Op::kClientSend, 5, 1));
}

TEST(UserData, SlotBitsDoNotBleedIntoOp) {
  const UserData ud = decode_user_data(encode_user_data(Op::kAccept, 0xFFFFFFFF, 0));
  EXPECT_EQ(ud.op, Op::kAccept);
  EXPECT_EQ(ud.slot, kMaxSlot);
}

}  // namespace
}  // namespace ringgate
