#pragma once

#include <string_view>

#include "common/task_id.h"

namespace ttfs::fuzz {

// The task every seed PDU names, so that inputs grown from the corpus reach
// the paths behind the task id check.
inline constexpr std::string_view kTaskIdText = "6f1d7c1e-2b3a-4c5d-8e9f-0a1b2c3d4e5f";

inline TaskId fuzz_task_id() { return TaskId::parse(kTaskIdText).value(); }

}  // namespace ttfs::fuzz
