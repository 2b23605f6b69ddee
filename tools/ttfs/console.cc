#include "ttfs/console.h"

namespace ttfs::tool {

int fail(Console& console, int exit_code, const std::string& message) {
  // A progress bar may have left the cursor mid-line.
  if (console.progress == ProgressMode::kBar) console.err << "\r\x1b[K";
  console.err << "ttfs: " << message << '\n';
  console.err.flush();
  return exit_code;
}

}  // namespace ttfs::tool
