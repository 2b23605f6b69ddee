#pragma once

#include <optional>
#include <string>
#include <utility>

namespace ttfs::client {

// Network conditions are ordinary outcomes for a client, so they travel as
// values: a test can assert on the kind of failure, a tool can print it.
enum class ErrorCode {
  kOk,
  kTimeout,    // nothing arrived from the server within the allowed silence
  kClosed,     // the server closed the connection
  kProtocol,   // the server sent something the protocol does not allow here
  kRefused,    // the server answered with a failing result_code
  kPeerEnded,  // a FILE_STATE (CANCEL, REFUSE, or an early DONE) ended the transfer
  kStopped,    // the caller asked to stop early (stop_after_segments)
  kIo,         // a socket or local file operation failed
  kInvalidArgument,
};

const char* to_string(ErrorCode code);

class Status {
 public:
  Status() = default;
  static Status error(ErrorCode code, std::string message) {
    Status s;
    s.code_ = code;
    s.message_ = std::move(message);
    return s;
  }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "timeout: no PDU within 100 ms", for logs and test failure output.
  std::string to_string() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

// A value or the Status that explains its absence (std::expected is C++23).
template <class T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace ttfs::client
