#pragma once

#include <cstdint>

namespace ttfs::load {

// IM.BaseDefine enums, as numbers on the wire.
inline constexpr uint32_t kTransOnline = 1;
inline constexpr uint32_t kTransOffline = 2;

inline constexpr uint32_t kRoleRealtimeSender = 1;
inline constexpr uint32_t kRoleRealtimeReceiver = 2;
inline constexpr uint32_t kRoleOfflineUpload = 3;
inline constexpr uint32_t kRoleOfflineDownload = 4;

inline constexpr uint32_t kStatePeerReady = 0;
inline constexpr uint32_t kStateCancel = 1;
inline constexpr uint32_t kStateRefuse = 2;
inline constexpr uint32_t kStateDone = 3;

// Segments are 32 KiB, the last one short (the original's grid).
inline constexpr uint32_t kSegmentSize = 32768;

}  // namespace ttfs::load
