#pragma once

#include <cstdint>
#include <optional>

namespace ttfs::load {

// CPU seconds (user + system, all threads) of another process, from
// /proc/PID/stat; nullopt when it cannot be read (gone, or not ours to see).
std::optional<double> process_cpu_seconds(int pid);
// Peak resident set (VmHWM) of another process in KiB, from /proc/PID/status.
std::optional<uint64_t> process_peak_rss_kb(int pid);
// Resident set (VmRSS) of another process in KiB, from /proc/PID/status.
std::optional<uint64_t> process_rss_kb(int pid);
// This process's own CPU seconds (user + system), from getrusage.
double self_cpu_seconds();

}  // namespace ttfs::load
