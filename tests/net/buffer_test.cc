#include "net/buffer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

namespace ttfs::net {
namespace {

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string text(const Buffer& b) {
  const auto r = b.readable();
  return {r.begin(), r.end()};
}

class Pipe {
 public:
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_NONBLOCK), 0);
    read_end = fds[0];
    write_end = fds[1];
  }
  ~Pipe() {
    if (read_end >= 0) ::close(read_end);
    if (write_end >= 0) ::close(write_end);
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;

  void write(const std::string& s) const {
    ASSERT_EQ(::write(write_end, s.data(), s.size()), static_cast<ssize_t>(s.size()));
  }
  void close_write() {
    ::close(write_end);
    write_end = -1;
  }

  int read_end = -1;
  int write_end = -1;
};

TEST(Buffer, StartsEmpty) {
  Buffer b;
  EXPECT_EQ(b.readable_bytes(), 0u);
  EXPECT_TRUE(b.readable().empty());
  EXPECT_EQ(b.capacity(), 0u);
  EXPECT_EQ(Buffer(64).capacity(), 64u);
}

TEST(Buffer, AppendThenConsumeInPieces) {
  Buffer b;
  b.append(bytes_of("hello "));
  b.append(bytes_of("world"));
  EXPECT_EQ(text(b), "hello world");
  b.consume(6);
  EXPECT_EQ(text(b), "world");
  EXPECT_EQ(b.readable_bytes(), 5u);
  b.consume(0);
  EXPECT_EQ(text(b), "world");
  b.consume(5);
  EXPECT_EQ(b.readable_bytes(), 0u);
}

TEST(Buffer, ConsumingMoreThanReadableEmptiesIt) {
  Buffer b;
  b.append(bytes_of("abc"));
  b.consume(100);
  EXPECT_EQ(b.readable_bytes(), 0u);
  b.append(bytes_of("xyz"));
  EXPECT_EQ(text(b), "xyz");
}

TEST(Buffer, DrainedBufferReusesItsBlockFromTheStart) {
  Buffer b(8);
  b.append(bytes_of("12345678"));
  b.consume(8);
  b.append(bytes_of("abcdefgh"));
  EXPECT_EQ(b.capacity(), 8u);
  EXPECT_EQ(text(b), "abcdefgh");
}

TEST(Buffer, ConsumedSpaceIsReclaimedBeforeGrowing) {
  Buffer b(8);
  b.append(bytes_of("abcdefgh"));
  b.consume(6);
  b.append(bytes_of("XYZ"));  // 2 unread + 3 new fit once the tail moves to the front
  EXPECT_EQ(b.capacity(), 8u);
  EXPECT_EQ(text(b), "ghXYZ");
}

TEST(Buffer, GrowsToHoldWhatIsAppendedAndKeepsTheUnreadBytes) {
  Buffer b(4);
  b.append(bytes_of("abcd"));
  b.consume(1);
  std::string big(1000, 'q');
  b.append(bytes_of(big));
  EXPECT_GE(b.capacity(), 1003u);
  EXPECT_EQ(text(b), "bcd" + big);
}

TEST(Buffer, GrowthAtLeastDoubles) {
  Buffer b(100);
  b.append(bytes_of(std::string(100, 'a')));
  b.append(bytes_of("b"));
  EXPECT_GE(b.capacity(), 200u);
}

TEST(Buffer, ReadFromAPipe) {
  Pipe p;
  p.write("hello pipe");
  Buffer b;
  const ssize_t n = b.read_from(p.read_end, 4096, 65536);
  EXPECT_EQ(n, 10);
  EXPECT_EQ(text(b), "hello pipe");
}

TEST(Buffer, AReadIntoAnEmptyBufferKeepsOnlyWhatArrived) {
  // Thousands of quiet connections each read a heartbeat now and then: each
  // must not cost a whole read chunk of memory.
  Pipe p;
  p.write(std::string(16, 'h'));
  Buffer b;
  EXPECT_EQ(b.read_from(p.read_end, 64 * 1024, 1 << 20), 16);
  EXPECT_EQ(b.capacity(), 16u);
  b.consume(16);
  p.write(std::string(16, 'i'));
  EXPECT_EQ(b.read_from(p.read_end, 64 * 1024, 1 << 20), 16);
  EXPECT_EQ(b.capacity(), 16u);
  EXPECT_EQ(text(b), std::string(16, 'i'));
  // Once bytes are pending, reads make a chunk's room as before.
  p.write("x");
  EXPECT_EQ(b.read_from(p.read_end, 64 * 1024, 1 << 20), 1);
  EXPECT_GE(b.capacity(), 64u * 1024);
  EXPECT_EQ(text(b), std::string(16, 'i') + "x");
}

TEST(Buffer, AFullChunkIntoAnEmptyBufferIsKeptWhole) {
  Pipe p;
  const std::string chunk(64 * 1024, 'c');
  p.write(chunk);
  Buffer b;
  EXPECT_EQ(b.read_from(p.read_end, 64 * 1024, 1 << 20), 64 * 1024);
  EXPECT_EQ(text(b), chunk);
}

TEST(Buffer, ReadFromAppendsAfterUnreadBytes) {
  Pipe p;
  Buffer b;
  b.append(bytes_of("head-"));
  p.write("tail");
  EXPECT_EQ(b.read_from(p.read_end, 64, 1024), 4);
  EXPECT_EQ(text(b), "head-tail");
}

TEST(Buffer, ReadFromReadsOnlyIntoFreeSpace) {
  Pipe p;
  p.write(std::string(100, 'x'));
  Buffer b;
  // The first read grows the block to exactly `want` (nothing to double).
  EXPECT_EQ(b.read_from(p.read_end, 16, 64), 16);
  EXPECT_EQ(b.capacity(), 16u);
  // The next one doubles, and reads no more than the room it made.
  EXPECT_EQ(b.read_from(p.read_end, 16, 64), 16);
  EXPECT_EQ(b.capacity(), 32u);
  EXPECT_EQ(b.readable_bytes(), 32u);
}

TEST(Buffer, ReadFromGrowthStopsAtTheCapacityLimit) {
  Pipe p;
  p.write(std::string(200, 'y'));
  Buffer b(48);
  EXPECT_EQ(b.read_from(p.read_end, 48, 64), 48);
  // Doubling would give 96; the limit holds it to 64, which still has room
  // for the 16 bytes asked for.
  EXPECT_EQ(b.read_from(p.read_end, 16, 64), 16);
  EXPECT_EQ(b.capacity(), 64u);
  EXPECT_EQ(b.readable_bytes(), 64u);
}

TEST(Buffer, ReadFromAtEndOfStreamReturnsZero) {
  Pipe p;
  p.close_write();
  Buffer b;
  EXPECT_EQ(b.read_from(p.read_end, 16, 64), 0);
  EXPECT_EQ(b.readable_bytes(), 0u);
}

TEST(Buffer, ReadFromAnEmptyNonBlockingPipeReportsEagain) {
  Pipe p;
  Buffer b;
  errno = 0;
  EXPECT_EQ(b.read_from(p.read_end, 16, 64), -1);
  EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK);
  EXPECT_EQ(b.readable_bytes(), 0u);
}

TEST(Buffer, ReadFromABadFdReportsTheError) {
  Buffer b;
  b.append(bytes_of("kept"));
  errno = 0;
  EXPECT_EQ(b.read_from(-1, 16, 64), -1);
  EXPECT_EQ(errno, EBADF);
  EXPECT_EQ(text(b), "kept");
}

TEST(Buffer, ShrinkIfEmptyReleasesAGrownBlock) {
  Buffer b(1024);
  b.append(bytes_of(std::string(1 << 20, 'z')));
  EXPECT_GE(b.capacity(), size_t{1} << 20);
  b.consume(b.readable_bytes());
  b.shrink_if_empty(4096);
  EXPECT_EQ(b.capacity(), 4096u);
  EXPECT_EQ(b.readable_bytes(), 0u);
  b.append(bytes_of("after"));
  EXPECT_EQ(text(b), "after");
}

TEST(Buffer, ShrinkIfEmptyKeepsABufferWithUnreadBytes) {
  Buffer b;
  b.append(bytes_of(std::string(10000, 'z')));
  b.consume(9999);
  const size_t cap = b.capacity();
  b.shrink_if_empty(16);
  EXPECT_EQ(b.capacity(), cap);
  EXPECT_EQ(text(b), "z");
}

TEST(Buffer, ShrinkIfEmptyLeavesASmallBlockAlone) {
  Buffer b(100);
  b.shrink_if_empty(4096);
  EXPECT_EQ(b.capacity(), 100u);
  b.shrink_if_empty(100);
  EXPECT_EQ(b.capacity(), 100u);
}

}  // namespace
}  // namespace ttfs::net
