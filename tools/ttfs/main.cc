#include <unistd.h>

#include <iostream>

#include "ttfs/cli.h"

int main(int argc, char** argv) {
  ttfs::tool::Console console{std::cout, std::cerr};
  console.progress =
      ::isatty(STDERR_FILENO) ? ttfs::tool::ProgressMode::kBar : ttfs::tool::ProgressMode::kLines;
  return ttfs::tool::run_cli(argc, argv, console, true);
}
