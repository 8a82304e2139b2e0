// tests/support/rc_main.cpp -- main() of the rapidcheck property tests. rapidcheck reads
// RC_PARAMS once, on first use: default to 3000 sequences of up to 150 commands unless the
// caller chose otherwise (RC_PARAMS="max_success=30000" runs more).
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  const char* params = std::getenv("RC_PARAMS");
  std::string p = params != nullptr ? params : "";
  if (p.find("max_success") == std::string::npos) p += " max_success=3000";
  if (p.find("max_size") == std::string::npos) p += " max_size=150";  // commands per sequence
  setenv("RC_PARAMS", p.c_str(), 1);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
