#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "storage/file_meta.h"
#include "storage/store_layout.h"

namespace ttfs::storage {

struct RecoveryReport {
  size_t complete = 0;                    // downloadable
  size_t partial = 0;                     // resumable uploads
  size_t removed_temporaries = 0;         // *.meta.tmp an older ttfsd left mid-rename
  size_t corrupt = 0;                     // unreadable metadata, or complete but the wrong size
  size_t orphan_data = 0;                 // a data file without metadata
  std::vector<FileMeta> partial_uploads;  // what a sender may resume (see lookup_partial)
  std::vector<std::string> problems;      // one line per anomaly, for the log and the operator
};

// Runs once at start-up, before the store's writer starts: removes stray
// temporaries and classifies every metadata file. It repairs nothing else and
// deletes no data; a corrupt entry stays on disk for an operator to look at
// (retention removes it a partial retention after the start), and
// lookup_complete() never serves it because it checks the same things.
RecoveryReport recover(const StoreLayout& layout);

}  // namespace ttfs::storage
