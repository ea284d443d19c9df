#include <gtest/gtest.h>

#include <string>

#include "sampling/stop_strings.h"

namespace sieve::sampling {
namespace {

TEST(StopStrings, PassesTextThroughWhenNothingCouldMatch) {
  StopStringMatcher m({"User:"});
  EXPECT_EQ(m.push("Hello"), "Hello");
  EXPECT_EQ(m.push(" world"), " world");
  EXPECT_FALSE(m.stopped());
  EXPECT_EQ(m.flush(), "");
}

TEST(StopStrings, HoldsBackAPossiblePartialMatch) {
  StopStringMatcher m({"User:"});
  EXPECT_EQ(m.push("Hi. Us"), "Hi. ");
  EXPECT_EQ(m.push("ually"), "Usually");  // it was not the stop string after all
  EXPECT_EQ(m.push(" U"), " ");
  EXPECT_EQ(m.flush(), "U");  // generation ended for another reason: show it
}

TEST(StopStrings, StopsAcrossPiecesAndHidesTheStopString) {
  StopStringMatcher m({"User:", "\n\n"});
  EXPECT_EQ(m.push("Sure.\nU"), "Sure.\n");
  EXPECT_EQ(m.push("se"), "");
  EXPECT_EQ(m.push("r: more"), "");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.matched(), "User:");
  EXPECT_EQ(m.push("ignored"), "");
  EXPECT_EQ(m.flush(), "");
}

TEST(StopStrings, EarliestStopWinsAndTextBeforeItIsShown) {
  StopStringMatcher m({"cd", "b"});
  EXPECT_EQ(m.push("abcd"), "a");
  EXPECT_EQ(m.matched(), "b");
}

TEST(StopStrings, OverlappingPrefixesAreHeldCorrectly) {
  StopStringMatcher m({"aab"});
  EXPECT_EQ(m.push("aaa"), "a");  // "aa" may still become "aab"
  EXPECT_EQ(m.push("b"), "");  // "aa" + "b" completes it
  EXPECT_TRUE(m.stopped());
}

TEST(StopStrings, NoStopStringsMeansNoHolding) {
  StopStringMatcher m({"", ""});
  EXPECT_EQ(m.push("anything"), "anything");
  EXPECT_FALSE(m.stopped());
}

}  // namespace
}  // namespace sieve::sampling
