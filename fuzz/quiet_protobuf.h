#pragma once

#include <google/protobuf/stubs/logging.h>

// protobuf logs every message it refuses for a missing required field; at
// tens of thousands of inputs a second that is only noise, and slow. A
// target includes this once, for libFuzzer's start-up hook.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}
