#pragma once

#include <string>

#include "client/client.h"

namespace ttfs::tool {

// The library's Status in words for a person: what kind of failure it was
// and the detail the library gave ("timed out: nothing from the server for
// 10000 ms").
std::string reason(const client::Status& status);

}  // namespace ttfs::tool
