#include "integr8/fixedpoint.h"

#include <gtest/gtest.h>

TEST(FixedPointTest, HalfRoundsTowardPositiveInfinity) {
  EXPECT_EQ(integr8::MultiplyByQuantizedMultiplier(1, int32_t{1} << 30, 31), 1);
  EXPECT_EQ(integr8::MultiplyByQuantizedMultiplier(-1, int32_t{1} << 30, 31), 0);
}
