#include "storage/direct_mode.h"

namespace ttfs::storage {

int DirectMode::set(File& file, bool on) {
  if (direct_ == on) return 0;
  if (const int err = file.set_direct(on); err != 0) return err;
  direct_ = on;
  return 0;
}

int DirectMode::prepare(File& file, bool aligned, bool* direct) {
  *direct = allowed_ && aligned;
  if (*direct && set(file, true) == 0) return 0;
  if (*direct) allowed_ = *direct = false;  // the file refuses the mode itself
  return set(file, false);
}

int DirectMode::give_up(File& file) {
  allowed_ = false;
  return set(file, false);
}

}  // namespace ttfs::storage
