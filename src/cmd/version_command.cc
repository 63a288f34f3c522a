#include <cstdio>

#include "cmd/commands.h"

#ifndef COFFER_VERSION
#define COFFER_VERSION "unknown"
#endif

namespace coffer::cmd {

int RunVersion() {
  std::printf("coffer %s\n", COFFER_VERSION);
  return 0;
}

}  // namespace coffer::cmd
